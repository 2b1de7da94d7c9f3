"""Container stacks as the faces one can see, not as boxes.

A big container ship carries thousands of boxes; six faces each would blow the face budget. In a bay the
stacks stand wall to wall, so only the tops, the side walls where one stack stands above its neighbour
(or at the ship's side) and the end walls above the next bay are visible. Those faces still get one
colour per container, which is what makes a loaded ship look like a mosaic in photos.
"""

from __future__ import annotations

import numpy as np

from feint.assets.ships.geometry import ShapeBuilder, axis_rects
from feint.assets.ships.palette import FAMILIES, srgb_to_linear

CONTAINER_COLORS = np.array([srgb_to_linear(c) for c in FAMILIES["container"]])
TIER = 2.7  # metres, between standard (2.59) and high-cube (2.9) boxes
ROW = 2.5  # metres, 2.44 wide plus the gap between stacks


def container_colors(seed: int, shape: tuple[int, int, int], dominant: int, share: float) -> np.ndarray:
    """Linear RGB per container (bay, row, tier): a shipping line's own colour for `share` of the boxes,
    the rest mixed from the palette, each slightly faded or darkened."""
    rng = np.random.default_rng(seed)
    idx = rng.integers(len(CONTAINER_COLORS), size=shape)
    idx = np.where(rng.random(shape) < share, dominant % len(CONTAINER_COLORS), idx)
    return CONTAINER_COLORS[idx] * rng.uniform(0.75, 1.15, size=(*shape, 1))


def add_stacks(
    b: ShapeBuilder,
    bays: np.ndarray,
    z_base: np.ndarray,
    heights: np.ndarray,
    colors: np.ndarray,
    gap_color: list[float],
) -> None:
    """Stacks on `bays` ((n, 2) x ranges) with `heights` (n, rows) in tiers standing on `z_base` (n,).

    Rows are centred on the ship's centreline. A bay closer than 3 m to its neighbour hides that end
    below the neighbour's stacks; the hidden part of each stack's end becomes one dark quad (the gap's shade).
    """
    n, rows = heights.shape
    y_edges = (np.arange(rows + 1) - rows / 2) * ROW
    tiers = np.arange(heights.max(initial=0))
    for i in range(n):
        h = heights[i]
        if h.max() == 0:
            continue
        x0, x1 = bays[i]
        zb = z_base[i]
        col = colors[i]
        full = h > 0
        r = np.nonzero(full)[0]
        b.add(axis_rects(2, zb + h[r] * TIER, x0, x1, y_edges[r], y_edges[r + 1]), col[r, h[r] - 1], "cargo")
        # side walls at each row boundary k, between row k-1 (left, -y) and row k (right, +y)
        left = np.concatenate([[0], h])
        right = np.concatenate([h, [0]])
        for hi_side, lo_side, row_of, facing in (
            (right, left, np.arange(rows + 1), -1.0),
            (left, right, np.arange(rows + 1) - 1, 1.0),
        ):
            kk, tt = np.nonzero((tiers[None] >= lo_side[:, None]) & (tiers[None] < hi_side[:, None]))
            if len(kk):
                b.add(
                    axis_rects(1, y_edges[kk], zb + tt * TIER, zb + (tt + 1) * TIER, x0, x1, facing),
                    col[row_of[kk], tt],
                    "cargo",
                )
        for end, x, other, facing in ((1, x1, i + 1, 1.0), (-1, x0, i - 1, -1.0)):
            near = 0 <= other < n and abs(bays[other][0 if end == 1 else 1] - x) < 3.0
            hidden = heights[other] if near else np.zeros(rows, dtype=int)
            rr, tt = np.nonzero((tiers[None] >= hidden[:, None]) & (tiers[None] < h[:, None]))
            if len(rr):
                b.add(
                    axis_rects(
                        0, x, y_edges[rr], y_edges[rr + 1], zb + tt * TIER, zb + (tt + 1) * TIER, facing
                    ),
                    col[rr, tt],
                    "cargo",
                )
            shadow = np.minimum(hidden, h)
            rr = np.nonzero(shadow)[0]
            if len(rr):
                b.add(
                    axis_rects(0, x, y_edges[rr], y_edges[rr + 1], zb, zb + shadow[rr] * TIER, facing),
                    gap_color,
                    "cargo",
                )
