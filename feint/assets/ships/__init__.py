"""Procedural ship models, one module per class, behind one registry.

Each class module registers a `ShipBuilder`: `sample(rng, variant)` draws a plain, JSON-able dict of
geometry and paint parameters (so a sample can be logged in `params.parquet` and rebuilt later), and
`build(params)` turns that dict into a `Mesh` without randomness of its own. `version` goes up with any
change to a class's model that alters its pixels: a study's render cache key holds it (above 1), so the
changed class renders again, alone, and no cache serves the old model's renders.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.errors import FeintError


@dataclass(frozen=True)
class ShipBuilder:
    name: str
    variants: tuple[str, ...]
    sample: Callable[[np.random.Generator, str | None], dict[str, Any]]
    build: Callable[[dict[str, Any]], Mesh]
    version: int = 1


_REGISTRY: dict[str, ShipBuilder] = {}


def register_ship(builder: ShipBuilder) -> ShipBuilder:
    """Add a ship class: graphs may then name it in `classes:`, the sampler draws it, the renderer builds it.
    A built-in class registers itself from its module in this folder (listed in classes.py)."""
    known = _REGISTRY.get(builder.name)
    if known is not None and known is not builder:
        raise FeintError(f"ship class {builder.name!r} is already registered")
    _REGISTRY[builder.name] = builder
    return builder


def unregister_ship(name: str) -> None:
    """Take a class `register_ship` added out again (a test's toy, an unloaded plug-in)."""
    if _REGISTRY.pop(name, None) is None:
        raise FeintError(f"unknown ship class {name!r}: nothing to unregister")


def list_ship_classes() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def ship_class_variants() -> dict[str, tuple[str, ...]]:
    """Every ship class with the variants its builder knows (what a graph's `classes` may name)."""
    return {name: get_ship_builder(name).variants for name in list_ship_classes()}


def ship_asset_versions() -> dict[str, int]:
    """Every ship class with its model's version (what a study's render cache key holds)."""
    return {name: get_ship_builder(name).version for name in list_ship_classes()}


def get_ship_builder(name: str) -> ShipBuilder:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown ship class {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def _load_all() -> None:
    """Import the class modules once; each registers itself."""
    from feint.assets.ships import classes  # noqa: F401
