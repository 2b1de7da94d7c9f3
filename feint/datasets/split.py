"""Group-disjoint, class-stratified, deterministic train/val/test splits.

Groups (every photo of one ship) move together. Each group joins the stratum of its most common class;
within a stratum groups are ordered by a key hashed from (seed, group) and laid end to end on [0, 1)
in proportion to their image counts; a group goes to the split whose ratio interval holds its midpoint.
So split sizes follow the ratios in images, per class, up to half a group.
"""

from __future__ import annotations

from collections.abc import Sequence

from feint import errors
from feint.datasets.core import Dataset, group_key, group_table, groups_of, strata_of
from feint.errors import FeintError

DEFAULT_NAMES = {1: ["train"], 2: ["train", "val"], 3: ["train", "val", "test"]}


def parse_ratios(text: str) -> list[float]:
    try:
        ratios = [float(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise FeintError(f"--ratios {text!r}: expected numbers and commas, e.g. 0.8,0.1,0.1") from None
    if not ratios or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
        raise FeintError(f"--ratios {text!r}: expected non-negative numbers that sum to 1, e.g. 0.8,0.1,0.1")
    return ratios


def split_dataset(
    dataset: Dataset,
    ratios: Sequence[float],
    seed: int,
    by: str | None = "group",
    stratify: str | None = "class",
    names: Sequence[str] | None = None,
    warn: bool = True,
) -> Dataset:
    """A copy of `dataset` with every record's `split` set.

    A class with too few groups to reach every split of non-zero ratio is missing from some: a warning
    (`warn`) names it, its group count and those splits; the split stands (the user may accept it).
    """
    names = list(names) if names else DEFAULT_NAMES.get(len(ratios))
    if names is None or len(names) != len(ratios) or len(set(names)) != len(names):
        raise FeintError(f"give one distinct split name per ratio ({len(ratios)} ratios), e.g. --names a,b,c")
    edges = [sum(ratios[: i + 1]) for i in range(len(ratios))]
    edges[-1] = float("inf")
    groups = groups_of(dataset, by)
    table = group_table(groups, strata_of(dataset, stratify))
    split_of_record: list[str] = [""] * len(dataset)
    by_stratum: dict[str, list[tuple[float, str, list[int]]]] = {}
    for group, stratum, idx in table:
        by_stratum.setdefault(stratum, []).append((group_key(seed, group), group, idx))
    for members in by_stratum.values():
        members.sort()
        total = sum(len(idx) for _, _, idx in members)
        done = 0
        for _, _, idx in members:
            middle = (done + len(idx) / 2) / total
            name = names[next(i for i, e in enumerate(edges) if middle < e)]
            for i in idx:
                split_of_record[i] = name
            done += len(idx)
    if warn:
        wanted = [n for n, r in zip(names, ratios, strict=True) if r > 0]
        for message in missing_classes(dataset, groups, split_of_record, wanted):
            errors.warn(message)
    return dataset.with_records(
        r.with_(split=s) for r, s in zip(dataset.records, split_of_record, strict=True)
    )


def missing_classes(
    dataset: Dataset, groups: Sequence[str], splits: Sequence[str], wanted: Sequence[str]
) -> list[str]:
    """One line per class absent from some of the `wanted` splits: the class, its groups, those splits."""
    found: dict[str, set[str]] = {}
    members: dict[str, set[str]] = {}
    for r, g, s in zip(dataset.records, groups, splits, strict=True):
        c = r.primary_class
        if c is not None:
            found.setdefault(c, set()).add(s)
            members.setdefault(c, set()).add(g)
    lines = []
    for c in [c for c in dataset.classes if c in found]:
        missing = [s for s in wanted if s not in found[c]]
        if missing:
            n = len(members[c])
            why = (
                f"it has {n} group{'s' if n != 1 else ''}, too few to reach every split"
                if n < len(wanted)
                else f"its {n} groups are too unequal in size to reach every split"
            )
            lines.append(
                f"class {c!r} is missing from split{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}: {why}"
            )
    return lines


def leaking_groups(dataset: Dataset, by: str = "group") -> list[str]:
    """Groups found in more than one split (should be none)."""
    seen: dict[str, set[str | None]] = {}
    for g, r in zip(groups_of(dataset, by), dataset.records, strict=True):
        seen.setdefault(g, set()).add(r.split)
    return sorted(g for g, s in seen.items() if len(s) > 1)
