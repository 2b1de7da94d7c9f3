"""Bad input gives one clear FeintError naming the file (and line); failed writes leave outputs intact."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets_helpers import make_image, write_coco
from PIL import Image

from feint.datasets import load_dataset
from feint.datasets.output import CARD, write_dataset
from feint.datasets.validate import check_decodes
from feint.errors import FeintError


def _yolo(root: Path, label: str, names: str = "[boat, buoy]") -> Path:
    make_image(root / "images/a.jpg", (20, 10))
    (root / "labels").mkdir(parents=True)
    (root / "labels/a.txt").write_text(label)
    (root / "data.yaml").write_text(f"names: {names}\n")
    return root


def _coco(root: Path, bbox: list[float], category_id: int = 1) -> Path:
    make_image(root / "a.jpg", (40, 30))
    return write_coco(
        root,
        [{"id": 1, "file_name": "a.jpg", "width": 40, "height": 30}],
        [{"id": 7, "image_id": 1, "category_id": category_id, "bbox": bbox}],
    )


def _manifest(root: Path, rows: str, header: str = "file,class") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    make_image(root / "cat/a.jpg")
    (root / "manifest.csv").write_text(header + "\n" + rows)
    return root


def _corrupt(root: Path) -> Path:
    _manifest(root, "cat/a.jpg,cat\ncat/bad.jpg,cat\n")
    (root / "cat/bad.jpg").write_bytes(b"this is not a jpeg")
    return root


def _text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path.parent


def _empty_class_folders(root: Path) -> Path:
    (root / "cat").mkdir(parents=True)
    (root / "dog").mkdir()
    return root


BAD_INPUTS = [
    ("missing folder", lambda r: r / "nowhere", r"nowhere: no such file or folder"),
    ("empty folder", lambda r: (r.mkdir(), r)[1], r"not a dataset"),
    ("empty class folders", _empty_class_folders, r"no images found in class folders"),
    ("manifest without rows", lambda r: _manifest(r, ""), r"manifest.csv: no rows: the dataset is empty"),
    ("coco without images", lambda r: (r.mkdir(), write_coco(r, [], []))[1], r"annotations.json: no images"),
    (
        "manifest image missing",
        lambda r: _manifest(r, "cat/a.jpg,cat\ncat/gone.jpg,cat\n"),
        r"manifest.csv: line 3: image 'cat/gone.jpg' not found",
    ),
    (
        "manifest without file column",
        lambda r: _manifest(r, "x,cat\n", header="path,class"),
        r"manifest.csv: line 1: no 'file' column",
    ),
    (
        "manifest class not in classes.txt",
        lambda r: (_manifest(r, "cat/a.jpg,cow\n"), (r / "classes.txt").write_text("cat\n"), r)[-1],
        r"manifest.csv: line 2: class 'cow' is not in .*classes.txt",
    ),
    ("corrupt image", _corrupt, r"bad.jpg: not a readable image"),
    (
        "coco box outside the image",
        lambda r: _coco(r, [30, 5, 20, 10]),
        r"annotations.json: annotations\[0\] \(id 7\): box \[30, 5, 50, 15\] .* outside the 40x30 image",
    ),
    ("coco empty box", lambda r: _coco(r, [3, 5, 0, 10]), r"annotations.json: .*empty box"),
    (
        "coco category out of range",
        lambda r: _coco(r, [3, 5, 10, 10], category_id=9),
        r"annotations.json: annotations\[0\] \(id 7\): category_id 9 out of range \(category ids: 1..3\)",
    ),
    (
        "coco invalid json",
        lambda r: _text(r / "annotations.json", '{"images": [\n  1,\n'),
        r"annotations.json: line 3: invalid JSON",
    ),
    (
        "yolo box outside the image",
        lambda r: _yolo(r, "0 0.5 0.5 0.2 0.2\n1 0.9 0.5 0.4 0.2\n"),
        r"labels/a.txt: line 2: box .* outside the 20x10 image",
    ),
    (
        "yolo label id out of range",
        lambda r: _yolo(r, "2 0.5 0.5 0.2 0.2\n"),
        r"labels/a.txt: line 1: class id 2 out of range 0..1",
    ),
    (
        "yolo negative label id",
        lambda r: _yolo(r, "0 0.5 0.5 0.2 0.2\n-1 0.5 0.5 0.2 0.2\n"),
        r"labels/a.txt: line 2: class id -1 out of range",
    ),
    (
        "yolo malformed line",
        lambda r: _yolo(r, "0 0.5 0.5 0.2\n"),
        r"labels/a.txt: line 1: expected 'class cx cy w h'",
    ),
    (
        "yolo text in a line",
        lambda r: _yolo(r, "0 0.5 0.5 0.2 wide\n"),
        r"labels/a.txt: line 1: expected numbers",
    ),
    (
        "yolo names missing",
        lambda r: _yolo(r, "", names="null"),
        r"data.yaml: 'names' must be a non-empty list",
    ),
]


@pytest.mark.parametrize("build, message", [b[1:] for b in BAD_INPUTS], ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_named(tmp_path, build, message):
    path = build(tmp_path / "data")
    with pytest.raises(FeintError, match=message):
        load_dataset(path)


def test_truncated_image_is_found_by_check(tmp_path):
    root = _manifest(tmp_path / "data", "cat/a.jpg,cat\ncat/cut.jpg,cat\n")
    noise = np.random.default_rng(0).integers(0, 255, (120, 160, 3), dtype=np.uint8)
    Image.fromarray(noise).save(tmp_path / "whole.jpg", quality=95)
    whole = (tmp_path / "whole.jpg").read_bytes()
    (root / "cat/cut.jpg").write_bytes(whole[: len(whole) * 2 // 3])
    ds = load_dataset(root)  # the header is intact: loading does not decode
    with pytest.raises(FeintError, match=r"cut.jpg: corrupt or truncated image"):
        check_decodes(ds)
    with pytest.raises(FeintError, match=r"cut.jpg"):
        write_dataset(ds, tmp_path / "out", "coco", "test", [root], check=True)
    assert not (tmp_path / "out").exists()


def test_coco_size_mismatch_is_found_by_check(tmp_path):
    root = _coco(tmp_path / "data", [1, 1, 5, 5])
    doc = json.loads((root / "annotations.json").read_text())
    doc["images"][0]["width"] = 41
    (root / "annotations.json").write_text(json.dumps(doc))
    with pytest.raises(FeintError, match=r"a.jpg: image is 40x30 but the labels say 41x30"):
        check_decodes(load_dataset(root))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_write_leaves_the_previous_output_intact(coco_dir, tmp_path, monkeypatch):
    ds = load_dataset(coco_dir)
    out = tmp_path / "out"
    write_dataset(ds, out, "yolo", "test", [coco_dir])
    before = _snapshot(out)

    import feint.datasets.formats.yolo as yolo

    real_place = yolo.place_image
    calls = []

    def failing_place(src, dest, copy):
        calls.append(dest)
        if len(calls) == 2:  # half-way through the images
            raise OSError("disk full")
        real_place(src, dest, copy)

    monkeypatch.setattr(yolo, "place_image", failing_place)
    with pytest.raises(OSError, match="disk full"):
        write_dataset(ds.with_records(ds.records[:3]), out, "yolo", "test", [coco_dir], overwrite=True)
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coco", "out"]  # no temporary folder left


def test_rewrite_replaces_the_whole_output(coco_dir, tmp_path):
    ds = load_dataset(coco_dir)
    out = tmp_path / "out"
    write_dataset(ds, out, "yolo", "test", [coco_dir])
    write_dataset(ds.with_records(ds.records[:1]), out, "yolo", "test", [coco_dir], overwrite=True)
    assert sorted(p.name for p in (out / "labels").iterdir()) == ["im0.txt"]  # no stale labels
    assert len(load_dataset(out)) == 1


@pytest.mark.parametrize(
    "where, message",
    [
        ("unrelated", r"not empty and was not written by feint"),
        ("coco", r"would replace the input"),
        ("coco/inside", r"lies inside the input"),
        ("file.txt", r"is a file, expected a folder"),
    ],
)
def test_dangerous_destinations_are_refused(coco_dir, tmp_path, where, message):
    (tmp_path / "unrelated").mkdir()
    (tmp_path / "unrelated/notes.txt").write_text("keep me")
    (tmp_path / "file.txt").write_text("keep me")
    before = _snapshot(tmp_path)
    with pytest.raises(FeintError, match=message):
        write_dataset(load_dataset(coco_dir), tmp_path / where, "coco", "test", [coco_dir])
    assert _snapshot(tmp_path) == before


def test_card_records_how_the_output_was_made(coco_dir, tmp_path):
    write_dataset(load_dataset(coco_dir), tmp_path / "out", "coco", "convert", [coco_dir], {"seed": 4})
    card = json.loads((tmp_path / "out" / CARD).read_text())
    assert card["command"] == "convert" and card["params"]["seed"] == 4 and card["params"]["to"] == "coco"
    assert card["counts"]["images"] == 4 and card["inputs"] == [str(coco_dir)]
