"""Rendering datasets with Blender: labels match pixels, determinism, resume, bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from feint.errors import FeintError
from feint.graph import load_graph
from feint.render.dataset import RenderJob, render_dataset

pytestmark = pytest.mark.blender


@pytest.fixture(scope="module")
def dataset20(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("r") / "ds"
    render_dataset(RenderJob(load_graph("marine"), 20, out, size=96, seed=1, workers=2), progress=False)
    return out


def test_twenty_images_with_valid_coco(dataset20):
    coco = COCO(str(dataset20 / "annotations.json"))
    assert sorted(c["id"] for c in coco.dataset["categories"]) == list(range(1, 11))
    assert len(coco.getImgIds()) == 20
    for img_id in coco.getImgIds():
        info = coco.imgs[img_id]
        with Image.open(dataset20 / info["file_name"]) as im:
            assert im.size == (info["width"], info["height"]) and max(im.size) == 96
        anns = coco.imgToAnns[img_id]
        assert anns, "every image has its ship labelled"
        for a in anns:
            m = mask_utils.decode(a["segmentation"])
            ys, xs = np.nonzero(m)
            x, y, w, h = a["bbox"]
            assert w > 0 and h > 0
            assert (xs.min(), ys.min(), xs.max() + 1 - x, ys.max() + 1 - y) == (x, y, w, h)
            assert a["area"] == m.sum() >= 1


def test_params_card_and_preview(dataset20):
    params = pd.read_parquet(dataset20 / "params.parquet")
    assert len(params) == 20 and {"class", "camera.distance_m", "sky.sun_elevation", "seed"} <= set(
        params.columns
    )
    card = json.loads((dataset20 / "dataset.json").read_text())
    assert card["images"] == 20 and card["seed"] == 1 and card["versions"]["blender"] == "5.0.1"
    assert sum(card["per_class"].values()) == 20
    assert Image.open(dataset20 / "preview.png").size[0] > 0


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "images").iterdir())} | {
        "annotations.json": (folder / "annotations.json").read_bytes(),
        "params.parquet": (folder / "params.parquet").read_bytes(),
    }


def test_same_seed_same_bytes_with_one_and_two_workers(tmp_path, dataset20):
    one = tmp_path / "one"
    # Recycled after every 7 images (3 Blender processes in turn): fresh workers give the same bytes.
    job = RenderJob(load_graph("marine"), 20, one, size=96, seed=1, workers=1, recycle_every=7)
    render_dataset(job, progress=False)
    assert _files(one) == _files(dataset20)


def test_kill_then_resume_equals_uninterrupted(tmp_path, dataset20):
    out = tmp_path / "killed"
    cmd = [
        sys.executable,
        "-m",
        "feint.cli",
        "render",
        "marine",
        "-n",
        "20",
        "--size",
        "96",
        "--seed",
        "1",
        "-o",
        str(out),
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((out / "records").glob("*.json"))) < 3:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((out / "records").glob("*.json")))
    assert 3 <= done < 20
    result = subprocess.run([*cmd, "--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert _files(out) == _files(dataset20)


def test_output_folder_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file"
    target.write_text("keep me")
    with pytest.raises(FeintError, match="output path is a file"):
        render_dataset(RenderJob(load_graph("marine"), 1, target, size=64), progress=False)
    assert target.read_text() == "keep me"


def test_existing_output_is_not_overwritten_without_resume(tmp_path):
    out = tmp_path / "ds"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(FeintError, match="not empty"):
        render_dataset(RenderJob(load_graph("marine"), 1, out, size=64), progress=False)
    assert (out / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    "graph_text, expected",
    [
        ("extends: marine\nsea: [\n", "malformed YAML"),
        ("extends: marine\nclasses:\n  trawler: {weight: 1}\n", "unknown class"),
        ("extends: marine\ncamera:\n  distance: -5\n", "below the minimum"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(tmp_path, graph_text, expected):
    graph = tmp_path / "g.yaml"
    graph.write_text(graph_text)
    result = subprocess.run(
        [sys.executable, "-m", "feint.cli", "render", str(graph), "-n", "1", "-o", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert expected in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_class_from_user_model_files(tmp_path):
    """A class can point at a folder of the user's own models; they render and get labelled."""
    models = tmp_path / "models"
    models.mkdir()
    verts = [(x, z, y) for x in (-20, 20) for y in (-4, 4) for z in (-3, 6)]  # OBJ is y-up
    faces = [(1, 2, 4, 3), (5, 7, 8, 6), (1, 5, 6, 2), (3, 4, 8, 7), (1, 3, 7, 5), (2, 6, 8, 4)]
    (models / "box.obj").write_text(
        "".join(f"v {x} {y} {z}\n" for x, y, z in verts)
        + "".join("f " + " ".join(map(str, f)) + "\n" for f in faces)
    )
    graph = tmp_path / "g.yaml"
    graph.write_text(
        "extends: marine\nclasses:\n"
        + "".join(
            f"  {c}: {{weight: 0}}\n"
            for c in (
                "aircraft_carrier",
                "bulkers",
                "car_carrier",
                "container_ship",
                "cruise",
                "ddg",
                "recreational",
                "sailboat",
                "submarine",
            )
        )
        + "  tug: {models: models, length: 40}\n"
    )
    out = tmp_path / "ds"
    render_dataset(RenderJob(load_graph(graph), 3, out, size=64, seed=0), progress=False)
    coco = COCO(str(out / "annotations.json"))
    assert [c["name"] for c in coco.dataset["categories"]] == ["tug"]
    assert len(coco.getAnnIds()) == 3
    params = pd.read_parquet(out / "params.parquet")
    assert params["asset.file"].str.endswith("box.obj").all()


@pytest.mark.parametrize(
    "box, max_stretch, expected",
    [
        ((10, 50, 110, 60), 2.0, (10, 37, 110, 73)),  # long low hull: grown in height, centred
        ((10, 50, 110, 60), 100.0, (10, 50, 110, 60)),  # within the limit: unchanged
        ((100, 0, 110, 100), 2.0, (69, 0, 141, 100)),  # tall mast: grown in width
        ((10, 95, 190, 100), 1.0, (10, 0, 190, 100)),  # cannot grow past the frame: clipped, shifted in
    ],
)
def test_crop_stretch_is_limited(box, max_stretch, expected):
    from feint.render.post import limit_stretch

    grown = limit_stretch(box, (100, 200), 1.44, max_stretch)
    assert grown == expected
    x0, y0, x1, y1 = grown
    assert 0 <= x0 < x1 <= 200 and 0 <= y0 < y1 <= 100


def test_resume_refuses_a_folder_rendered_with_other_pixels(tmp_path, dataset20, monkeypatch):
    import shutil

    from feint.render import dataset as dataset_module

    out = tmp_path / "ds"
    shutil.copytree(dataset20, out)
    spec = json.loads((out / "render.json").read_text())
    assert spec["pixels"] == dataset_module.PIXELS_VERSION
    job = RenderJob(load_graph("marine"), 20, out, size=96, seed=1, resume=True)
    del spec["pixels"]  # a folder from before the version was recorded still resumes
    (out / "render.json").write_text(json.dumps(spec))
    render_dataset(job, progress=False)
    monkeypatch.setattr(dataset_module, "PIXELS_VERSION", dataset_module.PIXELS_VERSION + 1)
    with pytest.raises(FeintError, match="other pixels"):
        render_dataset(job, progress=False)
    assert len(list((out / "images").glob("*.jpg"))) == 20  # nothing lost


def test_render_caches_are_keyed_by_the_pixel_version(monkeypatch):
    from feint.render import dataset as dataset_module
    from feint.studies.data import render_key

    merged = {"extends": "marine", "sky": {"clouds": 0}}
    key = render_key(merged, 0, 96)
    assert render_key(merged, 0, 96) == key and render_key(merged, 1, 96) != key
    monkeypatch.setattr(dataset_module, "PIXELS_VERSION", dataset_module.PIXELS_VERSION + 1)
    assert render_key(merged, 0, 96) != key
