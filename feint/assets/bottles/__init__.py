"""Procedural bottles of five classes, the sets they stand on and the props around them.

Like the ships, each class module registers a `BottleBuilder` whose `sample(rng, variant)` draws a plain,
JSON-able dict and whose `build(params)` turns it into a `Mesh` with no randomness of its own. The sets
(surfaces) and the props among the bottles are plain `params -> Mesh` functions in `sets.SET_BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from feint.assets.mesh import Mesh


@dataclass(frozen=True)
class BottleBuilder:
    name: str
    variants: tuple[str, ...]
    sample: Callable[[np.random.Generator, str | None], dict[str, Any]]
    build: Callable[[dict[str, Any]], Mesh]


_REGISTRY: dict[str, BottleBuilder] = {}


def register_bottle(builder: BottleBuilder) -> BottleBuilder:
    _REGISTRY[builder.name] = builder
    return builder


def list_bottle_classes() -> list[str]:
    _load_all()
    return sorted(_REGISTRY)


def bottle_class_variants() -> dict[str, tuple[str, ...]]:
    """Every bottle class with the variants its builder knows (what a graph's `classes` may name)."""
    return {name: get_bottle_builder(name).variants for name in list_bottle_classes()}


def get_bottle_builder(name: str) -> BottleBuilder:
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown bottle class {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def _load_all() -> None:
    """Import the class modules once; each registers itself."""
    from feint.assets.bottles import beer, plastic, soda, water, wine  # noqa: F401
