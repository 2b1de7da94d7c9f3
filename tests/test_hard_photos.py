"""The test photos most runs miss: which, how often, taken for what, with their flags; and their grid."""

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from feint.analysis.hard_photos import contact_sheet, hard_photos
from feint.studies.data import Part


@pytest.fixture
def test_part(tmp_path):
    paths = []
    for i in range(4):
        paths.append(tmp_path / f"photo{i}.png")
        Image.new("RGB", (40, 30), (60 * i, 80, 120)).save(paths[-1])
    meta = pd.DataFrame({"low_detail": [0, 1, 0, 1], "note": ["a", "b", "c", "d"]})
    return Part(paths, np.array([0, 1, 2, 0]), ["g0", "g1", "g2", "g3"], np.zeros((4, 3)), meta)


def test_hard_photos_are_those_half_the_runs_miss_most_missed_first(test_part):
    classes = ["carrier", "sailboat", "tug"]
    runs = [  # photo 1 missed by all four runs (mostly as tug), photo 3 by two, photo 2 by one
        {"correct": [1, 0, 1, 0], "predicted": [0, 2, 2, 1]},
        {"correct": [1, 0, 1, 0], "predicted": [0, 2, 2, 2]},
        {"correct": [1, 0, 0, 1], "predicted": [0, 0, 1, 0]},
        {"correct": [1, 0, 1, 1], "predicted": [0, 2, 2, 0]},
    ]
    found = hard_photos(test_part, classes, runs)
    assert list(found.file) == [str(test_part.paths[1]), str(test_part.paths[3])]
    assert list(found.missed_by) == [1.0, 0.5] and set(found.runs) == {4}
    assert list(found.label) == ["sailboat", "carrier"]
    assert found.taken_for.iloc[0] == "tug"  # three of its four misses
    assert list(found.low_detail) == [1, 1] and "note" not in found  # only 0/1 flags travel
    assert hard_photos(test_part, classes, runs, min_share=0.9).file.tolist() == [str(test_part.paths[1])]
    assert hard_photos(test_part, classes, []).empty
    with pytest.raises(ValueError, match="scored 3 photos"):
        hard_photos(test_part, classes, [{"correct": [1, 1, 1], "predicted": [0, 1, 2]}])


def test_the_contact_sheet_holds_every_photo_captioned(test_part):
    runs = [{"correct": [0, 0, 0, 0], "predicted": [1, 0, 0, 1]}]
    found = hard_photos(test_part, ["carrier", "sailboat", "tug"], runs)
    sheet = Image.open(io.BytesIO(contact_sheet(found, columns=3, tile=(40, 30))))
    assert sheet.size == (3 * 40, 2 * (30 + 30))  # four photos, three to a row, a caption under each
    pixels = np.asarray(sheet)
    assert (pixels[30:60, :40] < 128).any()  # the caption under the first photo is drawn
    assert (pixels[60:90, 40:] == 255).all()  # the empty tiles of the last row stay blank
