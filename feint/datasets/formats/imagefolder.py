"""ImageFolder: `<class>/<image>` (torchvision's layout), or `<split>/<class>/<image>` for split datasets.

Classes are the folder names sorted, as torchvision orders them. Exports also write manifest.csv and
classes.txt, so groups, sources and metadata come back when the folder is read again (as a manifest).
"""

from __future__ import annotations

from pathlib import Path

from feint.datasets.core import Dataset, Record
from feint.datasets.formats._common import place_image, write_manifest
from feint.datasets.images import header_sizes, is_image, unique_names
from feint.errors import FeintError

SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val", "test": "test"}


def _subfolders(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def _images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if is_image(p) and p.is_file())


def load_imagefolder(path: Path, source: str = "real") -> Dataset:
    if not path.is_dir():
        raise FeintError(f"{path}: not a folder (an ImageFolder dataset is a folder of class folders)")
    top = _subfolders(path)
    split_layout = bool(top) and all(p.name in SPLIT_FOLDERS for p in top)
    parts = [(SPLIT_FOLDERS[p.name], p) for p in top] if split_layout else [(None, path)]
    records: list[Record] = []
    classes: set[str] = set()
    for split, folder in parts:
        for class_dir in _subfolders(folder):
            classes.add(class_dir.name)
            records += [
                Record(image=f, label=class_dir.name, source=source, split=split)
                for f in _images_under(class_dir)
            ]
    if not records:
        raise FeintError(f"{path}: no images found in class folders (expected <class>/<image>.jpg)")
    sizes = header_sizes([r.image for r in records])
    for r, (w, h) in zip(records, sizes, strict=True):
        r.width, r.height = w, h
    return Dataset(sorted(classes), records, root=path, format="imagefolder")


def save_imagefolder(dataset: Dataset, out: Path, copy: bool = False) -> list[str]:
    """Links (or copies) in class folders, split folders first when the records have splits."""
    kept = [r for r in dataset.records if r.primary_class is not None]
    split_layout = any(r.split for r in kept)
    if split_layout and any(r.split is None for r in kept):
        raise FeintError("cannot write an ImageFolder with split folders: some images have no split")
    names = unique_names([r.image for r in kept])
    files = []
    for r, name in zip(kept, names, strict=True):
        rel = f"{r.split}/{r.primary_class}/{name}" if split_layout else f"{r.primary_class}/{name}"
        place_image(r.image, out / rel, copy)
        files.append(rel)
    for c in dataset.classes:  # every class has its folder, even an empty one: class indices stay put
        for split in dataset.splits if split_layout else [None]:
            (out / (f"{split}/{c}" if split else c)).mkdir(parents=True, exist_ok=True)
    write_manifest(dataset.with_records(kept), out, files)
    notes = []
    if len(kept) < len(dataset):
        notes.append(f"{len(dataset) - len(kept)} images without a class left out")
    if dataset.has_boxes:
        notes.append("boxes are not kept in an ImageFolder; an image goes to its label or largest box class")
    return notes
