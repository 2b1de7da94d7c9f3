"""Readers and writers, one module per format, declared once in a registry of `DatasetFormat`s.

Detection, first match wins: a file is told by its suffix (.json COCO, .csv a manifest, .yaml YOLO); a
folder is tried against each format in the order they were registered: a feint render if it has
dataset.json and annotations.json, COCO if annotations.json, YOLO if data.yaml, a manifest if manifest.csv,
and last an ImageFolder if it has subfolders. Adding a format is one `register_format` call (its reader,
its writer if it has one, how to recognise it); `--format`, `--to`, detection and their errors follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from feint.datasets.core import Dataset
from feint.errors import FeintError
from feint.lazy import resolve

Loader = Callable[[Path], Dataset]
Saver = Callable[[Dataset, Path, bool], list[str]]  # (dataset, new folder, copy images) -> notes


@dataclass(frozen=True)
class DatasetFormat:
    """One format; `load` and `save` are "module:attr" strings (imported when first used) or functions."""

    name: str
    load: str | Loader
    save: str | Saver | None = None  # None: read-only
    marker: str | None = None  # the file whose presence in a folder makes the folder this format
    suffixes: tuple[str, ...] = ()  # a single file with one of these suffixes is this format
    recognise: Callable[[Path], bool] | None = None  # for a folder no single marker file tells
    writes_as: str | None = None  # what `feint data` writes it as when no --to is given (default: itself)

    def is_folder_of_this_format(self, folder: Path) -> bool:
        if self.recognise is not None:
            return self.recognise(folder)
        return self.marker is not None and (folder / self.marker).is_file()

    def loader(self) -> Loader:
        load: Loader = resolve(self.load)
        return load

    def saver(self) -> Saver:
        if self.save is None:
            raise FeintError(f"cannot write format {self.name!r} (writable: {', '.join(writable_formats())})")
        save: Saver = resolve(self.save)
        return save


def _is_render(folder: Path) -> bool:
    return (folder / "dataset.json").is_file() and (folder / "annotations.json").is_file()


def _has_class_folders(folder: Path) -> bool:
    return any(p.is_dir() and not p.name.startswith(".") for p in folder.iterdir())


_FORMATS: dict[str, DatasetFormat] = {}
_FALLBACK = "imagefolder"  # any folder with subfolders: tried after every other format


def register_format(fmt: DatasetFormat) -> DatasetFormat:
    """Add a format; folders are tested against it after the formats before it, before the ImageFolder
    fallback."""
    if fmt.name in _FORMATS:
        raise FeintError(f"dataset format {fmt.name!r} is already registered")
    taken = [s for s in fmt.suffixes if any(s in f.suffixes for f in _FORMATS.values())]
    if taken:
        raise FeintError(f"dataset format {fmt.name!r}: file suffix {', '.join(taken)} already taken")
    items = [(n, f) for n, f in _FORMATS.items() if n != _FALLBACK]
    fallback = [(_FALLBACK, _FORMATS[_FALLBACK])] if _FALLBACK in _FORMATS else []
    _FORMATS.clear()
    _FORMATS.update([*items, (fmt.name, fmt), *fallback])
    return fmt


def unregister_format(name: str) -> None:
    """Remove a format `register_format` added (the built-in ones stay)."""
    if name in BUILTIN_FORMATS:
        raise FeintError(f"dataset format {name!r} is built in and cannot be removed")
    if _FORMATS.pop(name, None) is None:
        raise FeintError(f"unknown dataset format {name!r}: nothing to unregister")


def format_names() -> list[str]:
    """Every format feint reads, in detection order."""
    return list(_FORMATS)


def writable_formats() -> list[str]:
    return [name for name, fmt in _FORMATS.items() if fmt.save is not None]


def get_format(name: str) -> DatasetFormat:
    if name not in _FORMATS:
        raise FeintError(f"unknown dataset format {name!r} (formats: {', '.join(_FORMATS)})")
    return _FORMATS[name]


def default_output_format(name: str | None) -> str:
    """What `feint data` writes a dataset read in format `name` as, when no --to is given."""
    if name is None or name not in _FORMATS:
        return "coco"
    fmt = _FORMATS[name]
    return fmt.writes_as or (name if fmt.save is not None else "coco")


BUILTIN_FORMATS = ("feint", "coco", "yolo", "manifest", "imagefolder")
for _builtin in (
    DatasetFormat("feint", "feint.datasets.formats.feint:load_feint", recognise=_is_render, writes_as="coco"),
    DatasetFormat(
        "coco",
        "feint.datasets.formats.coco:load_coco",
        "feint.datasets.formats.coco:save_coco",
        marker="annotations.json",
        suffixes=(".json",),
    ),
    DatasetFormat(
        "yolo",
        "feint.datasets.formats.yolo:load_yolo",
        "feint.datasets.formats.yolo:save_yolo",
        marker="data.yaml",
        suffixes=(".yaml", ".yml"),
    ),
    DatasetFormat(
        "manifest",
        "feint.datasets.formats.manifest:load_manifest",
        "feint.datasets.formats.manifest:save_manifest",
        marker="manifest.csv",
        suffixes=(".csv",),
    ),
    DatasetFormat(
        "imagefolder",
        "feint.datasets.formats.imagefolder:load_imagefolder",
        "feint.datasets.formats.imagefolder:save_imagefolder",
        recognise=_has_class_folders,
    ),
):
    register_format(_builtin)


def detect_format(path: Path) -> str:
    path = Path(path)
    if not path.exists():
        raise FeintError(f"{path}: no such file or folder")
    if path.is_file():
        for name, fmt in _FORMATS.items():
            if path.suffix.lower() in fmt.suffixes:
                return name
        known = ", ".join(f"{s} ({n})" for n, f in _FORMATS.items() for s in f.suffixes[:1])
        raise FeintError(
            f"{path}: cannot tell the dataset format from the file name; give a folder, "
            f"a {known}, or pass --format"
        )
    if (path / "render.json").is_file() and not (path / "annotations.json").is_file():
        raise FeintError(
            f"{path}: an unfinished feint render (no annotations.json); finish it with "
            "`feint render ... --resume`"
        )
    for name, fmt in _FORMATS.items():
        if fmt.is_folder_of_this_format(path):
            return name
    markers = ", ".join(f.marker for f in _FORMATS.values() if f.marker)
    raise FeintError(f"{path}: not a dataset: no {markers} or class folders")


def load_dataset(path: str | Path, format: str | None = None, split: str | None = None) -> Dataset:
    """Read any supported dataset (format detected unless given); `split` keeps only that split."""
    path = Path(path)
    if not path.exists():
        raise FeintError(f"{path}: no such file or folder")
    fmt = get_format(format or detect_format(path))
    if path.is_dir() and fmt.marker is not None and not (path / fmt.marker).is_file():
        raise FeintError(f"{path}: no {fmt.marker} (needed for format {fmt.name})")
    dataset = fmt.loader()(path)
    if not len(dataset):
        raise FeintError(f"{path}: the dataset is empty (no images)")
    return dataset.split(split) if split else dataset


def save_dataset(dataset: Dataset, out: Path, to: str, copy: bool = False) -> list[str]:
    """Write `dataset` into the (new, empty) folder `out`; returns notes on what the format could not keep."""
    if to not in _FORMATS:
        raise FeintError(f"cannot write format {to!r} (writable: {', '.join(writable_formats())})")
    return get_format(to).saver()(dataset, Path(out), copy)
