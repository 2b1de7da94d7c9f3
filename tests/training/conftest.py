"""Fixtures of the training tests: tiny generated datasets and a private cache folder for every test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from training_helpers import make_images, make_manifest


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test decodes and caches into its own folder, never into ~/.cache/feint."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("FEINT_CACHE", str(cache))
    return cache


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return make_images(tmp_path / "tiny")


@pytest.fixture
def tiny_manifest(tmp_path: Path) -> Path:
    return make_manifest(tmp_path / "manifest-data")


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: on a 2-core machine shared with other jobs, two OpenMP threads spin-wait on each
    other and a 0.1 s step can take seconds. The numbers do not depend on it (each test compares runs
    made with the same setting)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def colours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three classes (red, green, blue ellipses on noise, 40x32 px): train/ 12 images each, val/ 4 each.

    Fixed split folders, so that the validation images do not depend on where the data lies (a held-out
    fraction is drawn by hashing the image paths, and tmp_path differs from run to run)."""
    root = tmp_path_factory.mktemp("colours") / "data"
    make_images(root / "train", per_class=12, seed=0)
    make_images(root / "val", per_class=4, seed=1)
    return root
