"""The boundary between datasets and training: `LabelledImages`, plain arrays built from a feint Dataset.

Everything upstream (formats, splits, class selection, merging) is `feint.datasets`; training sees only
image paths, integer labels into `classes`, a source per image ('real' or 'synthetic') and a group.
"""

from __future__ import annotations

import os
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


Notes = list[tuple[str, str]]  # ("note" | "warning", message): told once the run is sure to start


def tell(notes: Notes) -> None:
    """Print collected notes and warnings, one `feint: note: ...` / `feint: warning: ...` line each."""
    from feint.errors import note, warn

    for kind, message in notes:
        (warn if kind == "warning" else note)(message)


def training_split(path: str | Path, dataset, split: str | None, notes: Notes) -> str | None:  # noqa: ANN001
    """The split of `dataset` to train on: `split` if it has splits, its `train` split by default (a note
    says so), None (all of it) if it has no splits. Splits without a `train` one and no `split`: an error,
    since training on every split would train on its test images."""
    if not dataset.splits:
        return None
    if split:
        return split
    if "train" not in dataset.splits:
        raise FeintError(
            f"{path}: the data has splits ({', '.join(dataset.splits)}) but none named 'train'; "
            "say which split to train on with --split"
        )
    notes.append(
        (
            "note",
            f"no --split given: training on the 'train' split of {path} "
            f"(its splits: {', '.join(dataset.splits)})",
        )
    )
    return "train"


def check_held_out(held, trained, what: str, same_dataset=None) -> None:  # noqa: ANN001
    """Refuse validation images that are training images too (the same file, links followed) and, for a
    split of the dataset trained on (`same_dataset`: its training part), groups on both sides: validation
    would score objects the model was trained on."""
    seen = {os.path.realpath(r.image) for part in trained for r in part.records}
    shared = [r.image for r in held.records if os.path.realpath(r.image) in seen]
    if shared:
        raise FeintError(
            f"{what}: {len(shared)} of its {len(held)} images are training images too "
            f"(e.g. {shared[0]}); validate on images the model does not train on"
        )
    if same_dataset is not None:
        groups = {r.group for r in same_dataset.records}
        common = sorted({r.group for r in held.records} & groups)
        if common:
            verb = "has" if len(common) == 1 else "have"
            raise FeintError(
                f"{what}: {len(common)} of its groups {verb} training images too (e.g. group "
                f"{common[0]!r}): validation would score objects trained on; re-split the data "
                "by group (`feint data split`)"
            )


def _check_labels(path: str | Path, dataset, notes: Notes) -> None:  # noqa: ANN001
    """A classifier needs image classes: none at all is an error, some missing a warning."""
    unlabelled = sum(r.primary_class is None for r in dataset.records)
    if unlabelled == len(dataset):
        hint = (
            "its manifest has no 'class' column, or it is empty"
            if dataset.format == "manifest"
            else "no image has a class or a box"
        )
        raise FeintError(
            f"{path}: the data has no class labels ({hint}); a classifier needs a class per image"
        )
    if unlabelled:
        notes.append(
            ("warning", f"{path}: {unlabelled} of {len(dataset)} images have no class and are left out")
        )


def training_sets(
    inputs: Sequence[str | Path],
    split: str | None = None,
    classes: Sequence[str] | None = None,
    val: float = 0.1,
    val_split: str | None = None,
    seed: int = 0,
    fmt: str | None = None,
    notes: Notes | None = None,
) -> tuple[LabelledImages, LabelledImages | None]:
    """Training and validation images from one or more datasets (real and synthetic keep their source).

    `split` keeps that split of every input that has splits: renders usually have none and are used whole,
    so "the real training split plus these renders" is one call. Without `split`, an input with splits
    gives its `train` split (never its test images); one with splits but no `train` split is an error.
    Validation: split `val_split` of the first input if named (never the split trained on, nor sharing a
    group with it), else a group-disjoint, class-stratified `val` fraction of the training images (the
    datasets package's split rule), else none.
    Notes and warnings (the split chosen, images without a class) go to `notes` when given, for the caller
    to print once the run starts; else they are printed here.
    """
    from feint.datasets import load_dataset
    from feint.datasets.merge import merge
    from feint.datasets.select import keep_classes
    from feint.datasets.split import split_dataset

    told: Notes = [] if notes is None else notes
    if not inputs:
        raise FeintError("no training data given")
    loaded = [load_dataset(Path(p), fmt) for p in inputs]
    if split and not any(d.splits for d in loaded):
        raise FeintError(f"--split {split}: none of the inputs has splits")
    chosen = [training_split(p, d, split, told) for p, d in zip(inputs, loaded, strict=True)]
    parts = [d.split(s) if s else d for d, s in zip(loaded, chosen, strict=True)]
    for p, part in zip(inputs, parts, strict=True):
        _check_labels(p, part, told)
    held = None
    if val_split:
        if val_split == chosen[0]:
            raise FeintError(
                f"--val-split {val_split}: that is the split trained on; validate on another "
                f"split of {inputs[0]} ({', '.join(loaded[0].splits)}), or hold out a fraction "
                "of the training groups with --val"
            )
        held = loaded[0].split(val_split)
    dataset = merge(parts) if len(parts) > 1 else parts[0]
    if classes:
        dataset = keep_classes(dataset, list(classes))
        held = keep_classes(held, list(classes)) if held is not None else None
    if held is not None:  # the images and groups of --val-split, against those trained on
        check_held_out(held, [dataset], f"--val-split {val_split}", parts[0])
    if len(dataset.classes) < 2:
        found = f"one ({dataset.classes[0]})" if dataset.classes else "none"
        where = "--classes keeps" if classes else f"{', '.join(map(str, inputs))} has"
        raise FeintError(f"a classifier needs at least two classes; {where} {found}")
    if held is None and val > 0:
        both = split_dataset(dataset, [1 - val, val], seed, names=["train", "val"], warn=False)
        dataset, held = both.filter(lambda r: r.split == "train"), both.filter(lambda r: r.split == "val")
        if not any(r.primary_class is not None for r in dataset.records):
            groups = len({r.group for r in held.records})
            raise FeintError(
                f"--val {val}: holds out all {groups} groups of the training images, leaving "
                "none to train on; lower --val (or 0: no validation)"
            )
        kept = {r.primary_class for r in dataset.records}
        for c in [c for c in dataset.classes if c not in kept]:
            groups = len({r.group for r in held.records if r.primary_class == c})
            if groups:
                raise FeintError(
                    f"--val {val}: holds out all {groups} group{'s' if groups > 1 else ''} of "
                    f"class {c!r}, leaving none of its images to train on; lower --val"
                )
        if not len(held):
            held = None
            groups = len({r.group for r in dataset.records})
            told.append(
                (
                    "warning",
                    f"--val {val}: {groups} groups are too few to hold any out: no "
                    "validation, the last epoch is kept",
                )
            )
    train = from_dataset(dataset)
    held_images = from_dataset(held, train.classes) if held is not None else None
    if notes is None:
        tell(told)
    return train, held_images
