"""Readers and writers, one module per format, and the rules that tell formats apart.

Detection, first match wins: a .json file is COCO, a .csv file a manifest, a .yaml file YOLO; a folder is
a feint render if it has dataset.json and annotations.json, COCO if annotations.json, YOLO if data.yaml,
a manifest if manifest.csv, an ImageFolder if it has subfolders.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from feint.datasets.core import Dataset
from feint.errors import FeintError

FORMATS = ("feint", "coco", "yolo", "manifest", "imagefolder")
WRITABLE = ("coco", "yolo", "imagefolder", "manifest")


def detect_format(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        raise FeintError(f"{path}: no such file or folder")
    if path.is_file():
        by_suffix = {".json": "coco", ".csv": "manifest", ".yaml": "yolo", ".yml": "yolo"}
        if path.suffix.lower() in by_suffix:
            return by_suffix[path.suffix.lower()]
        raise FeintError(
            f"{path}: cannot tell the dataset format from the file name; give a folder, "
            "a .json (COCO), .csv (manifest) or data.yaml (YOLO), or pass --format"
        )
    if (path / "dataset.json").is_file() and (path / "annotations.json").is_file():
        return "feint"
    if (path / "render.json").is_file() and not (path / "annotations.json").is_file():
        raise FeintError(
            f"{path}: an unfinished feint render (no annotations.json); finish it with "
            "`feint render ... --resume`"
        )
    for name, fmt in (("annotations.json", "coco"), ("data.yaml", "yolo"), ("manifest.csv", "manifest")):
        if (path / name).is_file():
            return fmt
    if any(p.is_dir() and not p.name.startswith(".") for p in path.iterdir()):
        return "imagefolder"
    raise FeintError(f"{path}: not a dataset: no annotations.json, data.yaml, manifest.csv or class folders")


def _loader(fmt: str) -> Callable[..., Dataset]:
    if fmt == "feint":
        from feint.datasets.formats.feint import load_feint

        return load_feint
    if fmt == "coco":
        from feint.datasets.formats.coco import load_coco

        return load_coco
    if fmt == "yolo":
        from feint.datasets.formats.yolo import load_yolo

        return load_yolo
    if fmt == "manifest":
        from feint.datasets.formats.manifest import load_manifest

        return load_manifest
    if fmt == "imagefolder":
        from feint.datasets.formats.imagefolder import load_imagefolder

        return load_imagefolder
    raise FeintError(f"unknown dataset format {fmt!r} (formats: {', '.join(FORMATS)})")


def load_dataset(path: str | Path, format: str | None = None, split: str | None = None) -> Dataset:
    """Read any supported dataset (format detected unless given); `split` keeps only that split."""
    path = Path(path)
    if not path.exists():
        raise FeintError(f"{path}: no such file or folder")
    fmt = format or detect_format(path)
    loader = _loader(fmt)
    if fmt != "feint" and path.is_dir() and fmt != "imagefolder":
        names = {"coco": "annotations.json", "yolo": "data.yaml", "manifest": "manifest.csv"}
        if not (path / names[fmt]).is_file():
            raise FeintError(f"{path}: no {names[fmt]} (needed for format {fmt})")
    dataset = loader(path)
    if not len(dataset):
        raise FeintError(f"{path}: the dataset is empty (no images)")
    return dataset.split(split) if split else dataset


def save_dataset(dataset: Dataset, out: Path, to: str, copy: bool = False) -> list[str]:
    """Write `dataset` into the (new, empty) folder `out`; returns notes on what the format could not keep."""
    if to == "coco":
        from feint.datasets.formats.coco import save_coco as save
    elif to == "yolo":
        from feint.datasets.formats.yolo import save_yolo as save
    elif to == "imagefolder":
        from feint.datasets.formats.imagefolder import save_imagefolder as save
    elif to == "manifest":
        from feint.datasets.formats.manifest import save_manifest as save
    else:
        raise FeintError(f"cannot write format {to!r} (writable: {', '.join(WRITABLE)})")
    return save(dataset, Path(out), copy)
