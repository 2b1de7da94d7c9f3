"""Readers and writers: round trips between formats, format detection, feint renders, real data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from datasets_helpers import assert_same, make_image

from feint.datasets import Dataset, detect_format, load_dataset, save_dataset
from feint.datasets.output import write_dataset
from feint.errors import FeintError


def write(ds: Dataset, out: Path, to: str, copy: bool = False) -> Dataset:
    write_dataset(ds, out, to, "test", [ds.root], copy=copy)
    return load_dataset(out)


def test_coco_yolo_coco_round_trip(coco_dir, tmp_path):
    original = load_dataset(coco_dir)
    assert original.format == "coco" and len(original) == 4
    yolo = write(original, tmp_path / "yolo", "yolo")
    assert yolo.format == "yolo"
    # category ids 1..3 become YOLO ids 0..2; boxes normalised by their own image's size
    lines = (tmp_path / "yolo/labels/im1.txt").read_text().splitlines()
    assert [line.split()[0] for line in lines] == ["1", "2"]
    assert np.allclose([float(v) for v in lines[0].split()[1:]], [8 / 32, 6 / 24, 10 / 32, 8 / 24], atol=1e-6)
    assert (tmp_path / "yolo/images/im2.jpg").exists() and not (tmp_path / "yolo/labels/im2.txt").exists()
    back = write(yolo, tmp_path / "back", "coco")
    assert_same(original, back)
    coco = json.loads((tmp_path / "back/annotations.json").read_text())
    assert [c["id"] for c in coco["categories"]] == [1, 2, 3]
    assert len(coco["images"]) == 4 and len(coco["annotations"]) == 4
    assert coco["annotations"][0]["bbox"] == [2, 3, 10.5, 7.25]


def test_coco_keeps_masks_groups_sources_and_metadata(coco_dir, tmp_path):
    ds = load_dataset(coco_dir)
    ds.records[0].group, ds.records[0].meta, ds.records[1].split = "ship-a", {"low_detail": 1}, "val"
    ds.records[3].source = "synthetic"
    back = write(ds, tmp_path / "out", "coco")
    assert_same(ds, back)
    assert back.records[1].masks == ds.records[1].masks and back.records[1].masks[0] is not None
    assert back.records[0].meta == {"low_detail": 1}
    ann = json.loads((tmp_path / "out/annotations.json").read_text())["annotations"][1]
    assert ann["area"] == 80 and isinstance(ann["segmentation"]["counts"], str)


def test_manifest_to_imagefolder(manifest_dir, tmp_path):
    ds = load_dataset(manifest_dir)
    assert ds.format == "manifest" and ds.classes == ["cat", "dog", "emu"] and len(ds) == 24
    out = tmp_path / "if"
    write_dataset(ds, out, "imagefolder", "test", [manifest_dir])
    for cls in ds.classes:
        files = sorted((out / cls).iterdir())
        assert len(files) == 8
        assert all(f.is_symlink() and Path(os.path.realpath(f)).parent.name == cls for f in files)
    as_folders = load_dataset(out, format="imagefolder")
    assert as_folders.classes == ds.classes
    assert sorted((r.primary_class, os.path.realpath(r.image)) for r in as_folders) == sorted(
        (r.primary_class, os.path.realpath(r.image)) for r in ds
    )
    again = load_dataset(out)  # the manifest.csv written beside the folders brings groups and metadata back
    assert again.format == "manifest"
    assert_same(ds, again)
    assert [r.meta["low_detail"] for r in again] == [r.meta["low_detail"] for r in ds]


def test_copy_writes_real_files(coco_dir, tmp_path):
    ds = load_dataset(coco_dir)
    write_dataset(ds, tmp_path / "copy", "coco", "test", [coco_dir], copy=True)
    copied = sorted((tmp_path / "copy/images").iterdir())
    assert len(copied) == 4 and not any(p.is_symlink() for p in copied)
    assert copied[0].read_bytes() == (coco_dir / "images/im0.jpg").read_bytes()
    back = load_dataset(tmp_path / "copy")
    assert [r.image.parent for r in back] == [tmp_path / "copy/images"] * 4
    assert [(r.image.name, r.box_labels, r.boxes.tolist()) for r in back] == [
        (r.image.name, r.box_labels, r.boxes.tolist()) for r in ds
    ]


def test_imagefolder_with_split_folders(tmp_path):
    for split, cls, n in [("train", "cat", 3), ("train", "dog", 2), ("valid", "cat", 1), ("test", "dog", 1)]:
        for i in range(n):
            make_image(tmp_path / "d" / split / cls / f"{split}{i}.png", (10, 8))
    ds = load_dataset(tmp_path / "d")
    assert ds.format == "imagefolder" and ds.classes == ["cat", "dog"]
    assert ds.splits == ["train", "val", "test"] and len(ds.split("val")) == 1
    out = write(ds, tmp_path / "out", "imagefolder")
    assert (tmp_path / "out/train/dog").is_dir() and (tmp_path / "out/test/cat").is_dir()  # empty class kept
    assert_same(ds, out)


def test_yolo_reader_lists_dict_names_and_polygons(tmp_path):
    root = tmp_path / "y"
    for name in ("a", "b", "c"):
        make_image(root / "images" / f"{name}.jpg", (20, 10))
    (root / "labels").mkdir()
    (root / "labels/a.txt").write_text("0 0.5 0.5 0.5 0.4\n\n")
    (root / "labels/b.txt").write_text("1 0.1 0.1 0.9 0.1 0.5 0.9\n")  # a triangle
    (root / "train.txt").write_text("./images/a.jpg\n./images/b.jpg\n")
    (root / "val.txt").write_text("./images/c.jpg\n")
    (root / "data.yaml").write_text(
        "path: /elsewhere/not/here\ntrain: train.txt\nval: val.txt\nnames:\n  0: boat\n  1: buoy\n"
    )
    ds = load_dataset(root)
    assert ds.classes == ["boat", "buoy"] and [r.split for r in ds] == ["train", "train", "val"]
    a, b, c = ds.records
    assert np.allclose(a.boxes, [[5, 3, 15, 7]])
    assert np.allclose(b.boxes, [[2, 1, 18, 9]]) and b.masks is not None and b.masks[0]["size"] == [10, 20]
    assert len(c.boxes) == 0 and c.primary_class is None


@pytest.mark.parametrize(
    "layout, expected",
    [
        ({"dataset.json": "{}", "annotations.json": "{}"}, "feint"),
        ({"annotations.json": "{}"}, "coco"),
        ({"data.yaml": "names: [a]"}, "yolo"),
        ({"manifest.csv": "file\n"}, "manifest"),
        ({"cat/x.jpg": ""}, "imagefolder"),
    ],
)
def test_detect_format(tmp_path, layout, expected):
    for name, text in layout.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert detect_format(tmp_path) == expected


def test_feint_render_is_synthetic_coco_with_one_group_per_image(render_dir, tmp_path):
    ds = load_dataset(render_dir)
    assert ds.format == "feint" and ds.info["seed"] == 7
    assert [r.source for r in ds] == ["synthetic"] * 3
    assert [r.group for r in ds] == ["syn-7-0", "syn-7-1", "syn-7-2"]
    assert [r.label for r in ds] == ["cat", "dog", "emu"]  # the class of the first annotation
    assert ds.records[0].meta == {"index": 0, "seed": 1000}
    back = write(ds, tmp_path / "out", "coco")
    assert back.format == "coco" and [r.source for r in back] == ["synthetic"] * 3
    assert_same(ds, back)
    assert back.records[2].masks == ds.records[2].masks


def test_feint_render_metadata_from_params(render_dir):
    pytest.importorskip("pyarrow", exc_type=ImportError)
    import pandas as pd

    pd.DataFrame(
        {
            "index": [2, 0, 1],
            "class": ["emu", "cat", "dog"],
            "sky.clouds": [0.2, 0.0, 0.1],
            "file_name": ["images/000002.jpg", "images/000000.jpg", "images/000001.jpg"],
        }
    ).to_parquet(render_dir / "params.parquet", index=False)
    ds = load_dataset(render_dir)
    assert [r.meta["sky.clouds"] for r in ds] == [0.0, 0.1, 0.2]
    assert "class" not in ds.records[0].meta and "file_name" not in ds.records[0].meta


def test_split_restriction_on_load(coco_dir, tmp_path):
    ds = load_dataset(coco_dir)
    for r, s in zip(ds.records, ["train", "train", "val", "test"], strict=True):
        r.split = s
    write_dataset(ds, tmp_path / "s", "yolo", "test", [coco_dir])
    assert (tmp_path / "s/train.txt").read_text() == "./images/im0.jpg\n./images/im1.jpg\n"
    train = load_dataset(tmp_path / "s", split="train")
    assert len(train) == 2 and {r.split for r in train} == {"train"}


@pytest.mark.realdata
def test_typesofships_yolo_coco_yolo_coco(real_data, tmp_path):
    src = real_data / "typesofships"
    ds = load_dataset(src)
    assert ds.format == "yolo" and len(ds) == 738 and len(ds.classes) == 10
    assert sum(len(r.boxes) for r in ds) == 1015
    coco = write(ds, tmp_path / "c1", "coco")
    yolo = write(coco, tmp_path / "y", "yolo")
    coco2 = write(yolo, tmp_path / "c2", "coco")
    assert_same(ds, coco2, atol=0.01)
    # the written YOLO labels say what the originals say (to their 5 decimals)
    for name in ("101__a48363f4", "1013414__5ae37dd2"):
        mine = np.loadtxt(tmp_path / "y/labels" / f"{name}.txt", ndmin=2)
        theirs = np.loadtxt(src / "labels" / f"{name}.txt", ndmin=2)
        assert np.allclose(mine, theirs, atol=2e-5)


@pytest.mark.realdata
def test_ships_dev_manifest_to_imagefolder(real_data, tmp_path):
    ds = load_dataset(real_data / "ships-dev")
    assert len(ds) == 1819 and len({r.group for r in ds}) == 466
    write_dataset(ds, tmp_path / "if", "imagefolder", "test", [real_data / "ships-dev"])
    counts = {c: len(list((tmp_path / "if" / c).iterdir())) for c in ds.classes}
    assert counts["car_carrier"] == 440 and counts["recreational"] == 45 and sum(counts.values()) == 1819
    assert_same(ds, load_dataset(tmp_path / "if"))


def test_save_dataset_rejects_unknown_format(coco_dir, tmp_path):
    with pytest.raises(FeintError, match="cannot write format 'voc'"):
        save_dataset(load_dataset(coco_dir), tmp_path, "voc")


def test_unfinished_render_is_named(tmp_path):
    (tmp_path / "render.json").write_text("{}")
    (tmp_path / "images").mkdir()
    with pytest.raises(FeintError, match="unfinished feint render"):
        load_dataset(tmp_path)


def test_yolo_roboflow_layout(tmp_path):
    for split in ("train", "valid"):
        make_image(tmp_path / split / "images" / f"{split}.jpg", (10, 10))
        (tmp_path / split / "labels").mkdir()
        (tmp_path / split / "labels" / f"{split}.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (tmp_path / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\nnames: ['ship']\n")
    ds = load_dataset(tmp_path)
    assert [(r.image.name, r.split, len(r.boxes)) for r in ds] == [
        ("train.jpg", "train", 1),
        ("valid.jpg", "val", 1),
    ]
