"""Splits: group-disjoint, class-stratified, deterministic; subsamples: nested, stratified, whole groups."""

from __future__ import annotations

from collections import Counter

import pytest
from datasets_helpers import grouped_manifest

from feint.datasets import load_dataset
from feint.datasets.split import leaking_groups, parse_ratios, split_dataset
from feint.datasets.subsample import _prefix_length, subsample
from feint.errors import FeintError


@pytest.fixture
def grouped(tmp_path):
    return load_dataset(grouped_manifest(tmp_path, n_groups=90))


def _paths(ds):
    return {str(r.image) for r in ds}


def test_group_split_puts_no_group_in_two_splits(grouped, manifest_dir):
    for ds in (grouped, load_dataset(manifest_dir)):  # the second has groups spanning classes
        result = split_dataset(ds, [0.6, 0.2, 0.2], seed=3)
        assert leaking_groups(result) == []
        assert set(result.splits) == {"train", "val", "test"} and len(result) == len(ds)


def test_split_is_stratified_and_follows_ratios(grouped):
    result = split_dataset(grouped, [0.8, 0.1, 0.1], seed=0)
    total = Counter(r.primary_class for r in result)
    for split, ratio in (("train", 0.8), ("val", 0.1), ("test", 0.1)):
        got = Counter(r.primary_class for r in result if r.split == split)
        for cls, n in total.items():  # within 3 images per class (groups hold up to 5)
            assert abs(got[cls] - ratio * n) <= 3, (split, cls)


def test_split_is_deterministic_and_depends_on_seed(grouped):
    def splits(seed):
        return [r.split for r in split_dataset(grouped, [0.7, 0.15, 0.15], seed)]

    assert splits(1) == splits(1)
    assert splits(1) != splits(2)


def test_split_without_groups_is_per_image(grouped):
    result = split_dataset(grouped, [0.5, 0.5], seed=0, by="none", stratify="none")
    assert result.splits == ["train", "val"]
    assert leaking_groups(result) != []  # groups were ignored on purpose


@pytest.mark.parametrize("text", ["0.8,0.1", "a,b", "0.5,-0.1,0.6", ""])
def test_bad_ratios(text):
    with pytest.raises(FeintError, match="--ratios"):
        parse_ratios(text)


def test_subsamples_nest(grouped):
    samples = [subsample(grouped, seed=5, fraction=f) for f in (0.1, 0.2, 0.5, 1.0)]
    for small, large in zip(samples, samples[1:], strict=False):
        assert _paths(small) <= _paths(large)
    assert len(samples[-1]) == len(grouped)
    per_class = [subsample(grouped, seed=5, per_class=n) for n in (2, 5, 10)]
    for small, large in zip(per_class, per_class[1:], strict=False):
        assert _paths(small) <= _paths(large)


def test_subsample_takes_whole_groups_of_every_class(grouped):
    sample = subsample(grouped, seed=0, fraction=0.2)
    size = Counter(r.group for r in grouped)
    assert all(n == size[g] for g, n in Counter(r.group for r in sample).items())
    total, got = Counter(r.primary_class for r in grouped), Counter(r.primary_class for r in sample)
    assert set(got) == set(total)
    for cls in total:
        assert abs(got[cls] - 0.2 * total[cls]) <= 3  # half of the largest group
    assert _paths(subsample(grouped, seed=1, fraction=0.2)) != _paths(sample)


def test_subsample_in_one_split_keeps_the_others(grouped):
    split = split_dataset(grouped, [0.8, 0.1, 0.1], seed=0)
    thin = subsample(split, seed=0, fraction=0.25, only_split="train")
    counts = Counter(r.split for r in thin)
    full = Counter(r.split for r in split)
    assert counts["val"] == full["val"] and counts["test"] == full["test"]
    assert 0 < counts["train"] < full["train"] / 2


@pytest.mark.parametrize(
    "sizes, target, expected",
    [
        ([3, 3, 3], 0.0, 0),
        ([3, 3, 3], 0.5, 1),
        ([3, 3, 3], 4.4, 1),
        ([3, 3, 3], 4.6, 2),
        ([1, 10, 1], 5.0, 1),
        ([2], 100, 1),
    ],
)
def test_prefix_length_is_closest(sizes, target, expected):
    assert _prefix_length(sizes, target) == expected


@pytest.mark.realdata
def test_ships_dev_split_is_ship_disjoint(real_data):
    ds = load_dataset(real_data / "ships-dev")
    result = split_dataset(ds, [0.8, 0.1, 0.1], seed=0)
    assert leaking_groups(result) == []
    counts = Counter(r.split for r in result)
    assert abs(counts["train"] / len(ds) - 0.8) < 0.03
    ten, twenty = (subsample(result, seed=0, fraction=f, only_split="train") for f in (0.1, 0.2))
    assert _paths(ten) <= _paths(twenty)
