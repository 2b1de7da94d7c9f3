"""Intervals over a study's seeds: a few runs each, so Student's t, not the normal 1.96."""

from __future__ import annotations

import numpy as np

T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and a 95 % t-interval over seeds (the mean twice when there is one seed)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    t = T_975.get(len(values) - 1, 1.96)
    half = float(t * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half
