"""Nested, class-stratified, group-aware subsamples.

Per stratum (class, and split when the dataset has splits) groups are ordered by a key hashed from
(seed, group), and the sample is the prefix of that order whose image count is closest to the target
(at least one group when the target is above zero). A larger target can only lengthen the prefix, so
for one seed the 10 % sample lies inside the 20 % sample, and 5 per class inside 10 per class. Whole
groups are taken, so counts can differ from the target by up to half a group.
"""

from __future__ import annotations

from feint.datasets.core import Dataset, group_key, group_table, groups_of, strata_of
from feint.errors import FeintError


def _prefix_length(sizes: list[int], target: float) -> int:
    """How many leading groups to take: the count closest to `target` (ties: fewer); >= 1 if target > 0."""
    best_k, best_gap, total = 0, abs(target), 0
    for k, size in enumerate(sizes, 1):
        total += size
        gap = abs(total - target)
        if gap < best_gap:
            best_k, best_gap = k, gap
        if total > target:
            break
    return max(best_k, 1) if target > 0 and sizes else best_k


def subsample(
    dataset: Dataset,
    seed: int,
    fraction: float | None = None,
    per_class: int | None = None,
    by: str | None = "group",
    stratify: str | None = "class",
    only_split: str | None = None,
) -> Dataset:
    """Keep `fraction` of the images of every stratum, or `per_class` images per stratum.

    With `only_split`, only that split is thinned and the records of the other splits are all kept.
    """
    if (fraction is None) == (per_class is None):
        raise FeintError("give exactly one of --fraction and --per-class")
    if fraction is not None and not 0.0 <= fraction <= 1.0:
        raise FeintError(f"--fraction {fraction}: must lie between 0 and 1")
    if per_class is not None and per_class < 0:
        raise FeintError(f"--per-class {per_class}: must be 0 or more")
    if only_split is not None and only_split not in dataset.splits:
        have = ", ".join(dataset.splits) or "none"
        raise FeintError(f"{dataset.root}: no split {only_split!r} (splits: {have})")

    strata = strata_of(dataset, stratify)
    groups = groups_of(dataset, by)
    candidates = [i for i, r in enumerate(dataset.records) if only_split is None or r.split == only_split]
    # Splits are separate strata: a group never spans two of them in a split dataset anyway.
    keys = [f"{dataset.records[i].split}\x00{strata[i] or ''}" for i in candidates]
    table = group_table([f"{dataset.records[i].split}\x00{groups[i]}" for i in candidates], keys)
    by_stratum: dict[str, list[tuple[float, list[int]]]] = {}
    for group, stratum, idx in table:
        by_stratum.setdefault(stratum, []).append(
            (group_key(seed, group.split("\x00", 1)[1]), [candidates[i] for i in idx])
        )
    keep = [only_split is not None and r.split != only_split for r in dataset.records]
    for members in by_stratum.values():
        members.sort(key=lambda m: m[0])
        sizes = [len(idx) for _, idx in members]
        target = fraction * sum(sizes) if fraction is not None else float(per_class or 0)
        for _, idx in members[: _prefix_length(sizes, target)]:
            for i in idx:
                keep[i] = True
    return dataset.with_records(r for r, k in zip(dataset.records, keep, strict=True) if k)
