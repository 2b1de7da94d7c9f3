"""Datasets: one model (`Dataset` of `Record`s) for real photos and rendered images, and the tools on it.

    from feint.datasets import load_dataset
    train = load_dataset("runs/ships-split", split="train")   # any format, detected
    for r in train: r.image, r.primary_class, r.boxes, r.group, r.source, r.meta

Formats (feint/datasets/formats/): feint renders, COCO, YOLO, CSV manifest, ImageFolder.
Operations: split, subsample, select (classes, mapping, filters), merge, stats, preview.
"""

from feint.datasets.core import Dataset, Record
from feint.datasets.formats import (
    DatasetFormat,
    detect_format,
    format_names,
    load_dataset,
    register_format,
    save_dataset,
    writable_formats,
)

__all__ = [
    "Dataset",
    "DatasetFormat",
    "Record",
    "detect_format",
    "format_names",
    "load_dataset",
    "register_format",
    "save_dataset",
    "writable_formats",
]
