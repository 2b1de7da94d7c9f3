"""Wrong inputs to `feint detect train` are refused, never silently used: data with splits but no train
split, validation on the training images (same files, same split, shared groups), a resumed run whose
data changed, a device that is not there."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from detection_helpers import feint, make_coco, one_error_line

from feint.detection import DetectConfig, train_detector
from feint.detection.data import select_data
from feint.errors import FeintError


def with_splits(root: Path, splits: list[str], groups: list[str] | None = None, n: int = 6) -> Path:
    """make_coco's images, each given a split (and a group) in annotations.json."""
    make_coco(root, n=n)
    coco = json.loads((root / "annotations.json").read_text())
    for k, image in enumerate(coco["images"]):
        image["split"] = splits[k % len(splits)]
        if groups:
            image["group"] = groups[k % len(groups)]
    (root / "annotations.json").write_text(json.dumps(coco))
    return root


def config(data: Path, out: Path, **kw: Any) -> DetectConfig:
    base: dict[str, Any] = dict(data=str(data), out=str(out), size=64, batch=2, epochs=1, progress=False)
    return DetectConfig(**{**base, **kw})


def test_the_train_split_by_default_and_a_note_saying_so(tmp_path: Path) -> None:
    data = with_splits(tmp_path / "data", ["train", "train", "val", "test"], n=8)
    notes: list[tuple[str, str]] = []
    train, held = select_data(config(data, tmp_path / "run"), notes)
    assert {r.split for r in train} == {"train"} and len(train) == 4
    assert held is not None and {r.split for r in held} == {"val"}
    assert notes == [
        ("note", f"no --split given: training on the 'train' split of {data} (its splits: train, val, test)")
    ]


def test_splits_without_a_train_split_need_split(tmp_path: Path) -> None:
    data = with_splits(tmp_path / "data", ["val", "test"])
    message = (
        f"{data}: the data has splits (val, test) but none named 'train'; say which split to train "
        "on with --split"
    )
    with pytest.raises(FeintError, match=re.escape(message)):
        select_data(config(data, tmp_path / "run"))  # before: every image, test included, was trained on
    train, _ = select_data(config(data, tmp_path / "run", split="val"))
    assert {r.split for r in train} == {"val"}
    line = one_error_line(*feint("detect", "train", data, "-o", tmp_path / "run", "-q"))
    assert line == f"feint: error: {message}"


def test_validating_on_the_split_trained_on_is_refused(tmp_path: Path) -> None:
    data = with_splits(tmp_path / "data", ["train", "val"])
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"--val-split train: that is the split trained on; validate on another split of {data} "
            "(train, val) or on another dataset (--val)"
        ),
    ):
        select_data(config(data, tmp_path / "run", val_split="train"))
    with pytest.raises(FeintError, match="--val-split val: that is the split trained on"):
        select_data(config(data, tmp_path / "run", split="val", val_split="val"))


def test_a_val_dataset_holding_the_training_images_is_refused(tmp_path: Path) -> None:
    data = make_coco(tmp_path / "data", n=4)
    with pytest.raises(
        FeintError, match=re.escape(f"--val {data}: 4 of its 4 images are training images too (e.g. ")
    ):
        select_data(config(data, tmp_path / "run", val=str(data)))
    # Another annotation file naming two of the same image files (by another path): still the same images.
    other = tmp_path / "other"
    other.mkdir()
    coco = json.loads((data / "annotations.json").read_text())
    coco["images"] = [{**im, "file_name": f"../data/{im['file_name']}"} for im in coco["images"][:2]]
    coco["annotations"] = [a for a in coco["annotations"] if a["image_id"] <= 2]
    (other / "annotations.json").write_text(json.dumps(coco))
    with pytest.raises(FeintError, match=r"--val .*other: 2 of its 2 images are training images too"):
        select_data(config(data, tmp_path / "run", val=str(other)))
    fresh = make_coco(tmp_path / "fresh", n=3, seed=9)
    train, held = select_data(config(data, tmp_path / "run", val=str(fresh)))
    assert len(train) == 4 and len(held) == 3


def test_a_val_split_sharing_groups_with_training_is_refused(tmp_path: Path) -> None:
    ok = with_splits(tmp_path / "ok", ["train", "val"], groups=["a", "b"])  # train: group a, val: group b
    train, held = select_data(config(ok, tmp_path / "run"))
    assert len(train) == 3 and len(held) == 3
    leaky = with_splits(tmp_path / "leaky", ["train", "val"], groups=["a", "b", "c"])  # all on both sides
    with pytest.raises(
        FeintError,
        match=re.escape(
            f"the val split of {leaky}: 3 of its groups have training images too (e.g. group 'a'): "
            "validation would score objects trained on; re-split the data by group (`feint data split`)"
        ),
    ):
        select_data(config(leaky, tmp_path / "run"))


def test_one_class_is_fine_for_a_detector(tmp_path: Path) -> None:
    data = make_coco(tmp_path / "data", n=4)
    train, _ = select_data(config(data, tmp_path / "run", classes=["disc"]))
    assert train.classes == ["disc"]


def test_resuming_refuses_boxes_or_images_that_changed(tmp_path: Path) -> None:
    data = make_coco(tmp_path / "data", n=4, seed=3)
    cfg = config(data, tmp_path / "run")
    first = train_detector(cfg)
    assert train_detector(cfg, resume=True)["data"] == first["data"]  # the same data: fine
    original = json.loads((data / "annotations.json").read_text())
    where = re.escape(f"{cfg.out}: cannot resume: the data changed since the run began")

    moved = json.loads(json.dumps(original))
    moved["annotations"][0]["bbox"][0] += 3  # one box moved by 3 px
    (data / "annotations.json").write_text(json.dumps(moved))
    with pytest.raises(
        FeintError,
        match=where + r" \(the same file names, but other boxes or file "
        r"contents\); start a new run in another folder",
    ):
        train_detector(cfg, resume=True)

    fewer = {
        **original,
        "images": original["images"][:3],
        "annotations": [a for a in original["annotations"] if a["image_id"] <= 3],
    }
    (data / "annotations.json").write_text(json.dumps(fewer))
    with pytest.raises(FeintError, match=where + r" \(1 image gone, e\.g\. .*shape-003\.png\)"):
        train_detector(cfg, resume=True)

    renamed = {**original, "categories": [{"id": 1, "name": "box"}, {"id": 2, "name": "disc"}]}
    (data / "annotations.json").write_text(json.dumps(renamed))
    with pytest.raises(
        FeintError,
        match=re.escape(f"{cfg.out}: cannot resume: the classes changed (were square, disc; now box, disc)"),
    ):
        train_detector(cfg, resume=True)
