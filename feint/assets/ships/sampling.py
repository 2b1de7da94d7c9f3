"""Draws for ship parameters that come back as plain Python values.

`sample` dicts are logged as JSON and rebuilt later, so nothing numpy may leak into them; these helpers
convert at the source instead of every class module doing it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def uniform(rng: np.random.Generator, low: float, high: float) -> float:
    return float(rng.uniform(low, high))


def integer(rng: np.random.Generator, low: int, high: int) -> int:
    """A whole number in [low, high], both ends included."""
    return int(rng.integers(low, high + 1))


def choice(rng: np.random.Generator, options: Sequence[str], weights: Sequence[float] | None = None) -> str:
    p = None if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
    return str(options[int(rng.choice(len(options), p=p))])


def chance(rng: np.random.Generator, p: float) -> bool:
    return bool(rng.random() < p)


def variant_of(
    rng: np.random.Generator,
    variant: str | None,
    variants: Sequence[str],
    weights: Sequence[float] | None = None,
) -> str:
    """The requested variant (checked), or one drawn from `variants` when None."""
    if variant is None:
        return choice(rng, variants, weights)
    if variant not in variants:
        raise ValueError(f"unknown variant {variant!r}; expected one of {', '.join(variants)}")
    return variant


def seed(rng: np.random.Generator) -> int:
    """An int seed stored in params for builds that place many small random things (container colours)."""
    return int(rng.integers(0, 2**31 - 1))
