"""The dataset model every format reads into and writes from: `Record` (one image) and `Dataset`.

A record references its image by absolute path (images are never copied unless an export asks), carries
an image-level class and/or boxes (xyxy pixels, one class name each, optional COCO RLE masks), the group
it must stay with when splitting (the ship identity for real photos, one group per synthetic image), its
source ('real' or 'synthetic'), its split if any, and free metadata (manifest columns, render parameters).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from feint.errors import FeintError

SOURCES = ("real", "synthetic")
# Columns of `Dataset.frame()` that are not metadata; a metadata key with one of these names is shown as
# "meta.<key>" so that filters never confuse the two.
RESERVED = ("file", "class", "label", "group", "source", "split", "width", "height", "n_boxes")


def _empty_boxes() -> np.ndarray:
    return np.zeros((0, 4), dtype=np.float64)


@dataclass(eq=False)
class Record:
    """One image and its labels. `boxes` is (N, 4) xyxy in pixels; `box_labels[i]` is box i's class."""

    image: Path
    width: int | None = None
    height: int | None = None
    label: str | None = None
    boxes: np.ndarray = field(default_factory=_empty_boxes)
    box_labels: tuple[str, ...] = ()
    masks: tuple[dict[str, Any] | None, ...] | None = None
    group: str = ""
    source: str = "real"
    split: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.image = Path(os.path.abspath(self.image))  # a record means the same file whatever the cwd
        self.boxes = np.asarray(self.boxes, dtype=np.float64).reshape(-1, 4)
        self.box_labels = tuple(self.box_labels)
        if len(self.box_labels) != len(self.boxes):
            raise ValueError(f"{self.image}: {len(self.boxes)} boxes but {len(self.box_labels)} box labels")
        if self.masks is not None:
            self.masks = tuple(self.masks)
            if len(self.masks) != len(self.boxes):
                raise ValueError(f"{self.image}: {len(self.boxes)} boxes but {len(self.masks)} masks")
        if self.source not in SOURCES:
            raise ValueError(f"{self.image}: source must be one of {SOURCES}, got {self.source!r}")
        if self.split is not None and not isinstance(self.split, str):
            raise FeintError(f"{self.image}: split {self.split!r} is not a split name (train, val, ...)")
        if not self.group:
            self.group = str(self.image)

    @property
    def primary_class(self) -> str | None:
        """The image's class for classification: its label, else the class of its largest box."""
        if self.label is not None:
            return self.label
        if not len(self.boxes):
            return None
        areas = (self.boxes[:, 2] - self.boxes[:, 0]) * (self.boxes[:, 3] - self.boxes[:, 1])
        return self.box_labels[int(np.argmax(areas))]

    @property
    def classes(self) -> set[str]:
        """Every class named on this image (its label and its boxes' classes)."""
        found = set(self.box_labels)
        if self.label is not None:
            found.add(self.label)
        return found

    def with_(self, **changes: Any) -> Record:
        return replace(self, **changes)


@dataclass(eq=False)
class Dataset:
    """Records plus the class names in order (COCO category id = position + 1, YOLO id = position)."""

    classes: list[str]
    records: list[Record]
    root: Path | None = None  # the folder or file it was loaded from, for messages and dataset cards
    format: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.classes = list(self.classes)
        if len(set(self.classes)) != len(self.classes):
            dup = sorted({c for c in self.classes if self.classes.count(c) > 1})
            raise FeintError(f"{self.root}: class names repeated: {', '.join(dup)}")
        known = set(self.classes)
        for r in self.records:
            unknown = r.classes - known
            if unknown:
                raise FeintError(f"{r.image}: class {sorted(unknown)[0]!r} is not a class of the dataset")

    def __len__(self) -> int:
        return len(self.records)

    def __iter__(self) -> Iterator[Record]:
        return iter(self.records)

    @property
    def splits(self) -> list[str]:
        """The split names present, in a stable order (train, val, test first)."""
        names = {r.split for r in self.records if r.split is not None}
        order = {"train": 0, "val": 1, "test": 2}
        return sorted(names, key=lambda s: (order.get(s, 3), s))

    @property
    def has_boxes(self) -> bool:
        return any(len(r.boxes) for r in self.records)

    def with_records(self, records: Iterable[Record], classes: Sequence[str] | None = None) -> Dataset:
        classes = self.classes if classes is None else classes
        return Dataset(list(classes), list(records), self.root, self.format, dict(self.info))

    def filter(self, keep: Callable[[Record], bool]) -> Dataset:
        return self.with_records(r for r in self.records if keep(r))

    def split(self, name: str) -> Dataset:
        """Only the records of split `name`; an unknown name is an error (it is usually a typo)."""
        if name not in self.splits:
            have = ", ".join(self.splits) or "none"
            raise FeintError(f"{self.root}: no split {name!r} (splits: {have})")
        return self.filter(lambda r: r.split == name)

    def frame(self) -> Any:
        """One row per record (pandas DataFrame): file, class, group, source, split, size, boxes, metadata."""
        import pandas as pd

        rows = []
        for r in self.records:
            row = {
                "file": str(r.image),
                "class": r.primary_class,
                "label": r.label,
                "group": r.group,
                "source": r.source,
                "split": r.split,
                "width": r.width,
                "height": r.height,
                "n_boxes": len(r.boxes),
            }
            for k, v in r.meta.items():
                row[f"meta.{k}" if k in RESERVED else k] = v
            rows.append(row)
        return pd.DataFrame(rows, columns=None if rows else list(RESERVED))


def group_key(seed: int, group: str) -> float:
    """A uniform number in [0, 1) fixed by (seed, group): the order in which groups are drawn.

    Hash-based rather than a shuffled list so that a group's draw does not depend on which other groups
    are present: subsamples nest, and adding images to a dataset moves no existing group.
    """
    digest = hashlib.blake2b(f"{seed}\x00{group}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def group_table(groups: Sequence[str], strata: Sequence[str | None]) -> list[tuple[str, str, list[int]]]:
    """Record indices per group, with each group's stratum: its most common one (ties: smallest name).

    Returns (group, stratum, indices) in first-seen order; a group whose records have no stratum gets "".
    """
    members: dict[str, list[int]] = {}
    for i, g in enumerate(groups):
        members.setdefault(g, []).append(i)
    table = []
    for group, idx in members.items():
        counts: dict[str, int] = {}
        for i in idx:
            s = strata[i]
            if s is not None:
                counts[s] = counts.get(s, 0) + 1
        stratum = min(counts, key=lambda s: (-counts[s], s)) if counts else ""
        table.append((group, stratum, idx))
    return table


def groups_of(dataset: Dataset, by: str | None) -> list[str]:
    """What must stay together: the record's group (`by`='group'), a frame column, or each image alone."""
    if by == "group":
        return [r.group for r in dataset.records]
    if by is None or by in ("none", "file", "image"):
        return [str(r.image) for r in dataset.records]
    column = _column(dataset, by, "group by")
    return [str(r.image) if _missing(v) else str(v) for r, v in zip(dataset.records, column, strict=True)]


def strata_of(dataset: Dataset, by: str | None) -> list[str | None]:
    """The stratum of every record: its class (`by`='class'), a frame column, or None when not stratifying."""
    if by is None or by == "none":
        return [None] * len(dataset)
    if by == "class":
        return [r.primary_class for r in dataset.records]
    return [None if _missing(v) else str(v) for v in _column(dataset, by, "stratify by")]


def _column(dataset: Dataset, name: str, purpose: str) -> list[Any]:
    df = dataset.frame()
    if name not in df.columns:
        raise FeintError(
            f"{dataset.root}: cannot {purpose} {name!r}: no such column "
            f"(columns: {', '.join(map(str, df.columns))})"
        )
    return df[name].tolist()


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))
