"""Anchor boxes fitted to the training boxes: the shapes the proposal network starts from.

    anchors = fit_anchors(train_set, size=320)   # Anchors(sizes=((16.0, 29.6), ...), ratios=(0.33, ...))

torchvision's usual anchors have aspect ratios (height / width) 0.5, 1 and 2. Standing bottles are 2 to 5
times taller than wide and lying ones 2 to 4 times wider than tall; ships seen side on are long and low.
An object whose shape no anchor comes near (IoU below the proposal network's 0.7 for a positive) gets few
or no positive anchors in training, and is then rarely proposed at all: the lying bottles a first bottles
detector missed. So a run fits its anchors to its own training boxes, as scaled to the model's input:
aspect ratios evenly spaced (in log) from the flattest to the tallest boxes, and sides (sqrt of area) on
a geometric ladder from the smallest to the largest: coverage of every shape, not density where most
boxes are (ratios at quantiles of the boxes put four of five ratios on standing bottles and one on the
lying ones, and did worse than the fixed 0.5, 1, 2 on bottles). The anchors are stored in the checkpoint,
so a run's model is rebuilt with the anchors it was trained with.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

# Aspect ratios: RATIOS of them, evenly spaced in log between these quantiles of the boxes' h / w.
RATIO_QUANTILES = (0.02, 0.98)
RATIOS = 5
# The anchor sides span these quantiles of the boxes' sides (sqrt of area), widened a little.
SIDE_QUANTILES = (0.02, 0.98)
SIDE_MARGIN = 1.25
# The strides of the pyramid levels anchors sit on (two sides each), by the pyramid's finest stride: the
# backbone's features from that stride to 32, and a max-pooled stride-64 level.
PYRAMIDS = {16: (16, 32, 64), 8: (8, 16, 32, 64)}


@dataclass(frozen=True)
class Anchors:
    """Anchor sides per pyramid level (pixels of the model's input) and aspect ratios (height / width)."""

    sizes: tuple[tuple[float, ...], ...]
    ratios: tuple[float, ...]

    def record(self) -> dict[str, list]:
        return {"sizes": [list(s) for s in self.sizes], "ratios": list(self.ratios)}

    @classmethod
    def from_record(cls, record: dict[str, list]) -> Anchors:
        return cls(tuple(tuple(float(v) for v in s) for s in record["sizes"]), tuple(record["ratios"]))


def _ladder(low: float, high: float, levels: int) -> tuple[tuple[float, ...], ...]:
    """Two sides per level from `low` to `high` (geometric), rounded to 0.1 px."""
    sides = [low * (high / low) ** (k / (2 * levels - 1)) for k in range(2 * levels)]
    return tuple((round(sides[2 * i], 1), round(sides[2 * i + 1], 1)) for i in range(levels))


def default_anchors(size: int, finest_stride: int = 8) -> Anchors:
    """Sides from size/40 (size/20 from stride 16) to size, aspect ratios 0.5, 1 and 2: no
    knowledge of the objects."""
    return Anchors(_ladder(size * finest_stride / 320, size, len(PYRAMIDS[finest_stride])), (0.5, 1.0, 2.0))


def fit_anchors(
    boxes: Sequence[np.ndarray],
    sizes: Sequence[tuple[int | None, int | None]],
    size: int,
    finest_stride: int = 8,
) -> Anchors:
    """Anchors for boxes (xyxy pixels, one array per image) of images whose (width, height) are `sizes`,
    as the model sees them (longer side `size`); an image of unknown size keeps its boxes as they are."""
    scaled = [
        b * (size / max(w, h)) if w and h else b for b, (w, h) in zip(boxes, sizes, strict=True) if len(b)
    ]
    if not scaled:
        return default_anchors(size, finest_stride)
    every = np.concatenate(scaled)
    w = np.clip(every[:, 2] - every[:, 0], 1.0, None)
    h = np.clip(every[:, 3] - every[:, 1], 1.0, None)
    low_ratio, high_ratio = np.quantile(np.log(h / w), RATIO_QUANTILES)
    low_ratio, high_ratio = min(low_ratio, np.log(0.5)), max(high_ratio, np.log(2.0))  # at least 0.5 to 2
    spaced = np.exp(np.linspace(low_ratio, high_ratio, RATIOS))
    ratios = tuple(sorted({float(np.round(r, 2)) for r in spaced}))
    low, high = np.quantile(np.sqrt(w * h), SIDE_QUANTILES)
    low, high = max(4.0, low / SIDE_MARGIN), min(float(size), high * SIDE_MARGIN)
    if high <= low * 2:  # boxes of nearly one size: still cover a range around it
        low, high = low / 2, min(float(size), high * 2)
    return Anchors(_ladder(low, high, len(PYRAMIDS[finest_stride])), ratios)
