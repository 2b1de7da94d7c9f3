"""Helpers for the datasets tests: tiny images and datasets, and round-trip comparison."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

from feint.datasets import Dataset

CLASSES = ["cat", "dog", "emu"]


def make_image(path: Path, size: tuple[int, int] = (40, 30), value: int = 128) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", size, (value, 255 - value, 40)).save(path, quality=95)
    return path


def write_coco(folder: Path, images: list[dict], annotations: list[dict], classes=CLASSES) -> Path:
    coco = {
        "categories": [{"id": i + 1, "name": n} for i, n in enumerate(classes)],
        "images": images,
        "annotations": annotations,
    }
    (folder / "annotations.json").write_text(json.dumps(coco))
    return folder


def grouped_manifest(folder: Path, n_groups: int = 60, seed: int = 0) -> Path:
    """A larger manifest: groups of 1-5 images, each group one class (classes unbalanced)."""
    rng = np.random.default_rng(seed)
    image = make_image(folder / "img.jpg", (8, 8))
    lines = ["file,class,group"]
    for g in range(n_groups):
        cls = CLASSES[g % 3] if g % 4 else CLASSES[0]
        for k in range(int(rng.integers(1, 6))):
            name = f"g{g:03d}_{k}.jpg"
            (folder / name).symlink_to(image.name)
            lines.append(f"{name},{cls},grp{g}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


def canon(ds: Dataset) -> dict[str, tuple]:
    """What must survive a round trip, keyed by the real image file (default groups compare as None)."""
    out = {}
    for r in ds.records:
        group = None if r.group == str(r.image) else r.group
        out[os.path.realpath(r.image)] = (
            r.width,
            r.height,
            r.primary_class,
            r.box_labels,
            r.source,
            r.split,
            group,
            r.boxes,
        )
    return out


def assert_same(a: Dataset, b: Dataset, atol: float = 1e-3) -> None:
    """Same classes, images, sizes, image classes, boxes (to `atol` px), sources, splits and groups."""
    assert a.classes == b.classes
    ca, cb = canon(a), canon(b)
    assert ca.keys() == cb.keys()
    for key, ra in ca.items():
        rb = cb[key]
        assert ra[:-1] == rb[:-1], key
        assert ra[-1].shape == rb[-1].shape and np.allclose(ra[-1], rb[-1], atol=atol), key
