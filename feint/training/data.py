"""The boundary between datasets and training: `LabelledImages`, plain arrays built from a feint Dataset.

Everything upstream (formats, splits, class selection, merging) is `feint.datasets`; training sees only
image paths, integer labels into `classes`, a source per image ('real' or 'synthetic') and a group.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from feint.errors import FeintError


@dataclass
class LabelledImages:
    """Images with a class each. `labels[i]` indexes `classes`; `sources[i]` is 'real' or 'synthetic'."""

    paths: list[Path]
    labels: np.ndarray
    classes: list[str]
    sources: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    sizes: list[tuple[int | None, int | None]] = field(default_factory=list)  # (w, h) the labels state

    def __post_init__(self) -> None:
        self.paths = [Path(p) for p in self.paths]
        self.labels = np.asarray(self.labels, dtype=np.int64).reshape(-1)
        n = len(self.paths)
        self.sources = list(self.sources) or ["real"] * n
        self.groups = list(self.groups) or [str(p) for p in self.paths]
        self.sizes = list(self.sizes) or [(None, None)] * n
        if not (len(self.labels) == len(self.sources) == len(self.groups) == len(self.sizes) == n):
            raise ValueError("paths, labels, sources, groups and sizes must have one entry per image")
        if n and (self.labels.min() < 0 or self.labels.max() >= len(self.classes)):
            raise ValueError(f"labels must lie in [0, {len(self.classes)})")

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, index: Sequence[int] | np.ndarray) -> LabelledImages:
        idx = [int(i) for i in index]
        return LabelledImages(
            [self.paths[i] for i in idx],
            self.labels[idx],
            list(self.classes),
            [self.sources[i] for i in idx],
            [self.groups[i] for i in idx],
            [self.sizes[i] for i in idx],
        )

    def counts(self) -> dict[str, int]:
        found = np.bincount(self.labels, minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, found, strict=True)}


def from_dataset(dataset, classes: Sequence[str] | None = None) -> LabelledImages:  # noqa: ANN001
    """Records with a class become labelled images; `classes` fixes the class order (default: the dataset's).

    An image without a class (background) is left out; a class outside `classes` is an error naming it.
    """
    classes = list(classes) if classes is not None else list(dataset.classes)
    index = {c: i for i, c in enumerate(classes)}
    paths, labels, sources, groups, sizes = [], [], [], [], []
    for r in dataset.records:
        name = r.primary_class
        if name is None:
            continue
        if name not in index:
            raise FeintError(f"{r.image}: class {name!r} is not one of the classes ({', '.join(classes)})")
        paths.append(r.image)
        labels.append(index[name])
        sources.append(r.source)
        groups.append(r.group)
        sizes.append((r.width, r.height))
    if not paths:
        raise FeintError(f"{dataset.root}: no labelled images")
    return LabelledImages(paths, np.array(labels), classes, sources, groups, sizes)


def load_images(
    path: str | Path, split: str | None = None, classes: Sequence[str] | None = None, fmt: str | None = None
) -> LabelledImages:
    """Read any dataset feint knows (format detected), keep `classes` in that order if given."""
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes

    dataset = load_dataset(Path(path), fmt, split)
    if classes:
        dataset = keep_classes(dataset, list(classes))
    return from_dataset(dataset)


def training_sets(
    inputs: Sequence[str | Path],
    split: str | None = None,
    classes: Sequence[str] | None = None,
    val: float = 0.1,
    val_split: str | None = None,
    seed: int = 0,
    fmt: str | None = None,
) -> tuple[LabelledImages, LabelledImages | None]:
    """Training and validation images from one or more datasets (real and synthetic keep their source).

    `split` keeps that split of every input that has splits: renders usually have none and are used whole,
    so "the real training split plus these renders" is one call.
    Validation: split `val_split` of the first input if named, else a group-disjoint, class-stratified
    `val` fraction of the training images (the datasets package's split rule), else none.
    """
    from feint.datasets import load_dataset
    from feint.datasets.merge import merge
    from feint.datasets.select import keep_classes
    from feint.datasets.split import split_dataset

    if not inputs:
        raise FeintError("no training data given")
    loaded = [load_dataset(Path(p), fmt) for p in inputs]
    held = None
    if val_split:
        held = loaded[0].split(val_split)
    if split and not any(d.splits for d in loaded):
        raise FeintError(f"--split {split}: none of the inputs has splits")
    parts = [d.split(split) if split and d.splits else d for d in loaded]
    dataset = merge(parts) if len(parts) > 1 else parts[0]
    if classes:
        dataset = keep_classes(dataset, list(classes))
        held = keep_classes(held, list(classes)) if held is not None else None
    if held is None and val > 0:
        both = split_dataset(dataset, [1 - val, val], seed, names=["train", "val"])
        dataset, held = both.filter(lambda r: r.split == "train"), both.filter(lambda r: r.split == "val")
        if not len(held):
            held = None
    train = from_dataset(dataset)
    return train, from_dataset(held, train.classes) if held is not None else None
