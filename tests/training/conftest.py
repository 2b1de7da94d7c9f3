"""Fixtures of the training tests: tiny generated datasets and a private cache folder for every test."""

from __future__ import annotations

from pathlib import Path

import pytest
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
