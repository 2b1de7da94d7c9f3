"""Fixtures of the detection tests: tiny COCO datasets of shapes, one thread, a private cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from detection_helpers import make_coco


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: on a 2-core machine shared with other jobs, two OpenMP threads spin-wait on each
    other. The numbers do not depend on it (each test compares runs made with the same setting)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def shapes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """20 images (96x72) of red squares and blue discs with exact COCO boxes."""
    return make_coco(tmp_path_factory.mktemp("shapes") / "coco", n=20)


@pytest.fixture
def four(tmp_path: Path) -> Path:
    """4 images to overfit."""
    return make_coco(tmp_path / "four", n=4, seed=3)
