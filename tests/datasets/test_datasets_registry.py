"""Dataset formats are declared once (`register_format`): a toy format registered here is detected, read
and written by the `feint data` commands, named in their errors, and gone once removed."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from datasets_helpers import CLASSES
from PIL import Image

from feint.datasets import Dataset, DatasetFormat, Record, detect_format, format_names, load_dataset
from feint.datasets.formats import get_format, register_format, unregister_format, writable_formats
from feint.errors import FeintError


def load_lines(path: Path) -> Dataset:
    """`labels.txt`: one `file class` line per image."""
    records = []
    for line in (path / "labels.txt").read_text().splitlines():
        file, label = line.split()
        with Image.open(path / file) as image:
            records.append(Record(image=path / file, width=image.width, height=image.height, label=label))
    return Dataset(sorted({r.label for r in records if r.label}), records, root=path, format="lines")


def save_lines(dataset: Dataset, out: Path, copy: bool) -> list[str]:
    out.mkdir(exist_ok=True)
    lines = []
    for k, r in enumerate(dataset.records):
        name = f"{k:04d}{r.image.suffix}"
        os.symlink(r.image, out / name)
        lines.append(f"{name} {r.primary_class}")
    (out / "labels.txt").write_text("\n".join(lines) + "\n")
    return ["labels.txt keeps the class only"]


@pytest.fixture
def lines_format():
    fmt = register_format(DatasetFormat("lines", load_lines, save_lines, marker="labels.txt"))
    yield fmt
    unregister_format("lines")


def test_a_registered_format_is_detected_read_and_written(lines_format, manifest_dir, tmp_path, feint_cli):
    assert format_names()[-2:] == ["lines", "imagefolder"]  # before the catch-all class folders
    assert "lines" in writable_formats()
    code, out, err = feint_cli("data", "convert", manifest_dir, "--to", "lines", "-o", tmp_path / "as-lines")
    assert code == 0, err
    assert "(lines): 24 images; 3 classes" in out and "labels.txt keeps the class only" in out
    assert detect_format(tmp_path / "as-lines") == "lines"
    back = load_dataset(tmp_path / "as-lines")
    original = load_dataset(manifest_dir)
    assert back.classes == CLASSES
    assert [r.label for r in back.records] == [r.label for r in original.records]
    code, out, err = feint_cli("data", "stats", tmp_path / "as-lines")
    assert code == 0 and "(lines): 24 images, 3 classes" in out, err


def test_a_registered_format_is_named_in_errors_and_gone_once_removed(tmp_path):
    register_format(DatasetFormat("lines", load_lines, marker="labels.txt"))
    try:
        with pytest.raises(FeintError, match=r"formats: feint, coco, yolo, manifest, lines, imagefolder\)"):
            get_format("voc")
        with pytest.raises(FeintError, match=r"cannot write format 'lines' \(writable: coco, yolo, manifest"):
            get_format("lines").saver()
        with pytest.raises(FeintError, match="already registered"):
            register_format(DatasetFormat("lines", load_lines))
        with pytest.raises(FeintError, match=r"suffix \.json already taken"):
            register_format(DatasetFormat("other", load_lines, suffixes=(".json",)))
    finally:
        unregister_format("lines")
    assert format_names() == ["feint", "coco", "yolo", "manifest", "imagefolder"]
    with pytest.raises(FeintError, match="built in"):
        unregister_format("coco")
