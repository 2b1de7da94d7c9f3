"""Merge datasets (real photos + rendered images): one class list, every record keeps its source."""

from __future__ import annotations

import os
from collections.abc import Sequence

from feint.datasets.core import Dataset
from feint.errors import FeintError


def merge(
    datasets: Sequence[Dataset], sources: Sequence[str | None] | None = None, fill_split: str | None = None
) -> Dataset:
    """Records of all datasets in order; classes in first-seen order. `sources[i]` overrides dataset i's;
    `fill_split` is given to every record without a split (synthetic images joining a real train split).

    The same image file in two inputs is refused: it would count twice and could land in two splits.
    """
    if not datasets:
        raise FeintError("merge: no datasets given")
    sources = list(sources or [None] * len(datasets))
    classes: list[str] = []
    records = []
    seen: dict[str, object] = {}
    for ds, source in zip(datasets, sources, strict=True):
        classes += [c for c in ds.classes if c not in classes]
        for r in ds.records:
            real = os.path.realpath(r.image)
            if real in seen:
                raise FeintError(f"merge: image {r.image} is in both {seen[real]} and {ds.root}")
            seen[real] = ds.root
            changes = {"source": source} if source else {}
            if fill_split and r.split is None:
                changes["split"] = fill_split
            records.append(r.with_(**changes) if changes else r)
    return Dataset(classes, records, root=datasets[0].root, format=datasets[0].format)
