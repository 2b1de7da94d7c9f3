"""Procedural ship models, one module per class, behind one registry.

Each class module registers a `ShipBuilder`: `sample(rng, variant)` draws a plain, JSON-able dict of
geometry and paint parameters (so a sample can be logged in `params.parquet` and rebuilt later), and
`build(params)` turns that dict into a `Mesh` without randomness of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from feint.assets.mesh import Mesh


@dataclass(frozen=True)
class ShipBuilder:
    name: str
    variants: tuple[str, ...]
    sample: Callable[[np.random.Generator, str | None], dict[str, Any]]
    build: Callable[[dict[str, Any]], Mesh]


_REGISTRY: dict[str, ShipBuilder] = {}


def register_ship(builder: ShipBuilder) -> ShipBuilder:
    _REGISTRY[builder.name] = builder
    return builder


def list_ship_classes() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def get_ship_builder(name: str) -> ShipBuilder:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown ship class {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def _load_all() -> None:
    """Import the class modules once; each registers itself."""
    from feint.assets.ships import classes  # noqa: F401
