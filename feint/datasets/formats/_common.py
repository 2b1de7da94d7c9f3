"""Glue shared by the format modules: placing image files, plain metadata values, the manifest sidecar."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from feint.datasets.core import Dataset, Record
from feint.datasets.images import relative_to
from feint.errors import FeintError
from feint.io import write_bytes_atomic


class FirstListed:
    """Where each image file was first listed: a file listed twice (two labels, or a repeated row) would
    count twice, and could land in two splits, so it is refused naming both places."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def check(self, image: Path, where: str, name: str, place: str) -> None:
        """`image` (listed as `name` at `place`, e.g. 'line 7 (as class 'tug')'), if it was not before."""
        key = os.path.abspath(image)
        if key in self.seen:
            raise FeintError(f"{where}: file {name!r} is already listed at {self.seen[key]}")
        self.seen[key] = place


def place_image(src: Path, dest: Path, copy: bool) -> None:
    """Put an image at `dest`: a relative symlink to the original (default), or a copy when asked."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if copy:
        shutil.copyfile(src, dest)
    else:
        os.symlink(relative_to(src, dest.parent), dest)


def plain(value: Any) -> Any:
    """A JSON/CSV-safe Python value: numpy scalars unboxed, NaN as None, anything exotic as text."""
    if hasattr(value, "item") and not isinstance(value, (list, dict, str, bytes)):
        try:
            value = value.item()
        except (ValueError, AttributeError):
            return str(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    return str(value)


def is_default_group(record: Record) -> bool:
    """A group that only says "this image on its own" is not written out (it would leak absolute paths)."""
    return record.group == str(record.image)


def write_manifest(dataset: Dataset, folder: Path, files: Sequence[str], name: str = "manifest.csv") -> None:
    """One row per record (file, class, group, source, split, width, height, metadata) plus classes.txt.

    Written by every export so groups, sources and metadata survive formats that cannot hold them.
    """
    import pandas as pd

    rows = []
    for r, f in zip(dataset.records, files, strict=True):
        row = {
            "file": f,
            "class": r.primary_class,
            "group": None if is_default_group(r) else r.group,
            "source": r.source,
            "split": r.split,
            "width": r.width,
            "height": r.height,
        }
        for k, v in r.meta.items():
            if k not in row:
                row[k] = plain(v)
        rows.append(row)
    table = pd.DataFrame(rows)
    if not any(r.split for r in dataset.records):
        table = table.drop(columns=["split"])
    write_bytes_atomic(folder / name, table.to_csv(index=False, lineterminator="\n").encode())
    write_bytes_atomic(folder / "classes.txt", "".join(f"{c}\n" for c in dataset.classes).encode())


def relative_files(records: Sequence[Record], folder: Path) -> list[str]:
    return [relative_to(r.image, folder) for r in records]
