"""Tiny hand-built datasets (a few 8-40 px images) in several formats, written into tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from datasets_helpers import CLASSES, make_image, write_coco


@pytest.fixture
def coco_dir(tmp_path: Path) -> Path:
    """Four images: one box, two boxes of two classes (one with an RLE mask), one without objects, one box."""
    from pycocotools import mask as mask_utils

    folder = tmp_path / "coco"
    sizes = [(40, 30), (32, 24), (20, 20), (33, 17)]
    images = []
    for i, (w, h) in enumerate(sizes):
        make_image(folder / "images" / f"im{i}.jpg", (w, h), 40 * i)
        images.append({"id": i + 1, "file_name": f"images/im{i}.jpg", "width": w, "height": h})
    m = np.zeros((24, 32), dtype=np.uint8)
    m[2:10, 3:13] = 1
    rle = mask_utils.encode(np.asfortranarray(m))
    anns = [
        {"id": 1, "image_id": 1, "category_id": 1, "bbox": [2, 3, 10.5, 7.25], "area": 76.1, "iscrowd": 0},
        {
            "id": 2,
            "image_id": 2,
            "category_id": 2,
            "bbox": [3, 2, 10, 8],
            "area": 80,
            "iscrowd": 0,
            "segmentation": {"size": [24, 32], "counts": rle["counts"].decode()},
        },
        {"id": 3, "image_id": 2, "category_id": 3, "bbox": [0, 0, 32, 24], "area": 768, "iscrowd": 0},
        {"id": 4, "image_id": 4, "category_id": 3, "bbox": [1.25, 0.5, 30, 16.5], "area": 495, "iscrowd": 0},
    ]
    return write_coco(folder, images, anns)


@pytest.fixture
def manifest_dir(tmp_path: Path) -> Path:
    """Class folders + manifest.csv: 3 classes, 24 images in 12 groups of 2, a low_detail column."""
    folder = tmp_path / "ships"
    lines = ["file,class,group,low_detail"]
    for i in range(24):
        cls = CLASSES[i % 3]
        name = f"{cls}/img{i:02d}.jpg"
        make_image(folder / name, (16, 12), 10 * i)
        lines.append(f"{name},{cls},ship{i // 2 if i < 12 else i % 12},{int(i % 5 == 0)}")
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def render_dir(tmp_path: Path) -> Path:
    """A feint render, per the renderer's contract: images/NNNNNN.jpg, annotations.json, dataset.json."""
    from pycocotools import mask as mask_utils

    folder = tmp_path / "render"
    m = np.zeros((16, 24), dtype=np.uint8)
    m[3:11, 2:12] = 1
    counts = mask_utils.encode(np.asfortranarray(m))["counts"].decode()
    images, anns = [], []
    for i in range(3):
        make_image(folder / "images" / f"{i:06d}.jpg", (24, 16), 60 * i)
        images.append(
            {
                "id": i + 1,
                "file_name": f"images/{i:06d}.jpg",
                "width": 24,
                "height": 16,
                "index": i,
                "seed": 1000 + i,
            }
        )
        anns.append(
            {
                "id": i + 1,
                "image_id": i + 1,
                "category_id": 1 + i % 3,
                "bbox": [2, 3, 10, 8],
                "area": 80,
                "segmentation": {"size": [16, 24], "counts": counts},
                "iscrowd": 0,
            }
        )
    write_coco(folder, images, anns)
    (folder / "dataset.json").write_text(json.dumps({"name": "render", "seed": 7, "images": 3}))
    return folder
