"""select (classes, mappings, filters), merge, stats and preview."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from feint.datasets import load_dataset
from feint.datasets.merge import merge
from feint.datasets.preview import preview_png
from feint.datasets.select import filter_where, keep_classes, map_classes, read_mapping
from feint.datasets.stats import dataset_stats, format_stats
from feint.errors import FeintError


def test_keep_classes_drops_boxes_and_emptied_images_but_keeps_background(coco_dir):
    ds = load_dataset(coco_dir)
    kept = keep_classes(ds, ["emu", "dog"])
    assert kept.classes == ["emu", "dog"]
    names = [r.image.name for r in kept]
    assert names == ["im1.jpg", "im2.jpg", "im3.jpg"]  # im0 (only a cat) dropped, im2 (no objects) kept
    two = kept.records[0]
    assert two.box_labels == ("dog", "emu") and two.masks is not None
    only_emu = keep_classes(ds, ["emu"]).records[0]
    assert only_emu.box_labels == ("emu",) and only_emu.masks is None
    assert np.allclose(only_emu.boxes, [[0, 0, 32, 24]])


@pytest.mark.parametrize(
    "name, text",
    [
        ("map.csv", "from,to\ncat,animal\ndog,animal\nemu,\n"),
        ("map.yaml", "cat: animal\ndog: animal\nemu: null\n"),
    ],
)
def test_mapping_renames_merges_and_drops(coco_dir, tmp_path, name, text):
    (tmp_path / name).write_text(text)
    ds = load_dataset(coco_dir)
    mapped = map_classes(ds, read_mapping(tmp_path / name), tmp_path / name)
    assert mapped.classes == ["animal"]
    assert [r.box_labels for r in mapped] == [("animal",), ("animal",), ()]  # im3 (emu only) dropped


@pytest.mark.parametrize(
    "name, text, line",
    [
        ("map.csv", "from,to\ncat,animal\nwolf,animal\n", 3),
        ("map.yaml", "# comment\ncat: animal\n\nwolf: animal\n", 4),
    ],
)
def test_mapping_with_unknown_class_names_file_and_line(coco_dir, tmp_path, name, text, line):
    (tmp_path / name).write_text(text)
    with pytest.raises(FeintError, match=rf"{name}: line {line}: class 'wolf' is not in the dataset"):
        map_classes(load_dataset(coco_dir), read_mapping(tmp_path / name), tmp_path / name)


def test_where_filters_on_manifest_columns(manifest_dir):
    ds = load_dataset(manifest_dir)
    low = filter_where(ds, ["low_detail=1"])
    assert len(low) == 5 and all(r.meta["low_detail"] == 1 for r in low)
    assert len(filter_where(ds, ["low_detail!=1", "class==cat"])) == 8 - 2
    with pytest.raises(FeintError, match="no column 'blur'"):
        filter_where(ds, ["blur<2"])
    with pytest.raises(FeintError, match="expected COLUMN OP VALUE"):
        filter_where(ds, ["low_detail"])


def test_merge_keeps_sources_and_unions_classes(coco_dir, render_dir, manifest_dir):
    real, syn = load_dataset(manifest_dir), load_dataset(render_dir)
    both = merge([real, syn])
    assert len(both) == len(real) + len(syn) and both.classes == ["cat", "dog", "emu"]
    assert [r.source for r in both].count("synthetic") == 3
    relabelled = merge([load_dataset(coco_dir), real], sources=[None, "synthetic"])
    assert {r.source for r in relabelled.records[4:]} == {"synthetic"}
    with pytest.raises(FeintError, match="is in both"):
        merge([real, real])
    real.records[0].split = "val"
    filled = merge([real, syn], fill_split="train")
    assert filled.records[0].split == "val" and {r.split for r in filled.records[1:]} == {"train"}


def test_stats_counts(coco_dir, render_dir):
    ds = merge([load_dataset(coco_dir), load_dataset(render_dir)])
    ds.records[0].split = "train"
    stats = dataset_stats(ds)
    assert stats["images"] == 7 and stats["per_source"] == {"real": 4, "synthetic": 3}
    assert stats["per_split"] == {"train": 1, "(none)": 6}
    assert stats["boxes"]["total"] == 7 and stats["boxes"]["per_image"] == {"0": 1, "1": 5, "2": 1}
    assert stats["per_class"]["(none)"]["(none)"] == 1  # the image without objects
    assert stats["boxes"]["coco_size"]["small (<32²)"] == 7
    text = format_stats(stats, "x")
    assert text.startswith("x: 7 images, 3 classes") and "synthetic 3" in text


def test_preview_is_a_png_grid(coco_dir):
    png = preview_png(load_dataset(coco_dir), n=4, columns=2)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.size == (400, 2 * 164)
