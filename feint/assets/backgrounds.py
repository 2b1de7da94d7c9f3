"""Backdrops seen behind ships in real photos: coastlines with hills and towns, harbour quays.

Local frame of a backdrop: +x runs along the shore, +y points back towards the camera, so the land
occupies y <= 0 and its shoreline (y = 0) faces the viewer. The sampler places and turns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from feint.assets.mesh import PART_INDEX, Mesh, box, merge

VEGETATION = [
    (0.05, 0.09, 0.03),
    (0.08, 0.11, 0.04),
    (0.11, 0.10, 0.06),
    (0.16, 0.15, 0.12),
    (0.22, 0.21, 0.19),
]
BUILDINGS = [
    (0.60, 0.58, 0.52),
    (0.45, 0.40, 0.33),
    (0.70, 0.70, 0.68),
    (0.35, 0.18, 0.12),
    (0.25, 0.25, 0.27),
]
CONTAINERS = [(0.40, 0.05, 0.03), (0.05, 0.12, 0.35), (0.06, 0.25, 0.08), (0.5, 0.5, 0.5), (0.6, 0.25, 0.02)]


def _ridge(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """A smooth random skyline in [0.15, 1] from a few sines (cheap, seedable, no noise library)."""
    h = np.zeros_like(x)
    span = x.max() - x.min() + 1e-9
    for octave in range(1, 5):
        freq = rng.uniform(0.5, 1.5) * octave * 2 * np.pi / span
        h += rng.uniform(0.4, 1.0) / octave * np.sin(freq * x + rng.uniform(0, 2 * np.pi))
    h = (h - h.min()) / (np.ptp(h) + 1e-9)
    return 0.15 + 0.85 * h


def _heightfield(heights: np.ndarray, xs: np.ndarray, ys: np.ndarray, colors: np.ndarray) -> Mesh:
    """A grid surface z = heights[j, i] over (xs[i], ys[j]); one colour per cell."""
    ny, nx = heights.shape
    gx, gy = np.meshgrid(xs, ys)
    verts = np.column_stack([gx.ravel(), gy.ravel(), heights.ravel()])
    faces: list[tuple[int, ...]] = [
        (j * nx + i, j * nx + i + 1, (j + 1) * nx + i + 1, (j + 1) * nx + i)
        for j in range(ny - 1)
        for i in range(nx - 1)
    ]
    if ys[1] > ys[0]:
        faces = [f[::-1] for f in faces]
    return Mesh(verts, faces, colors.reshape(-1, 3), np.full(len(faces), PART_INDEX["ground"]))


def coastline(params: dict[str, Any]) -> Mesh:
    """Hills rising from a shoreline, with a sprinkling of buildings near the water."""
    rng = np.random.default_rng(int(params["seed"]))
    width, depth, height = float(params["width"]), float(params["depth"]), float(params["height"])
    nx, ny = 64, 8
    xs = np.linspace(-width / 2, width / 2, nx)
    ys = np.linspace(0.0, -depth, ny)
    skyline = _ridge(rng, xs) * max(height, 1.0)
    rise = np.clip(np.linspace(-0.1, 1.4, ny), 0, 1) ** 0.7
    heights = rise[:, None] * skyline[None, :] - 2.0
    base = np.array(VEGETATION[int(rng.integers(len(VEGETATION)))])
    cell = base * rng.uniform(0.7, 1.3, size=(ny - 1, nx - 1, 1))
    cell[0] = np.array([0.35, 0.32, 0.26]) * rng.uniform(0.8, 1.2)  # rocks/beach at the waterline
    parts = [_heightfield(heights, xs, ys, cell)]
    for _ in range(int(rng.integers(0, 40))):
        w, d, h = rng.uniform(6, 30), rng.uniform(6, 20), rng.uniform(4, 25)
        x = rng.uniform(-width / 2, width / 2)
        y = -rng.uniform(5, 0.15 * depth + 10)
        color = BUILDINGS[int(rng.integers(len(BUILDINGS)))]
        parts.append(box((w, d, h), (x, y, h / 2), color, "ground"))
    return merge(parts)


def harbour(params: dict[str, Any]) -> Mesh:
    """A quay wall with warehouses, container stacks and gantry cranes, hills or a town behind."""
    rng = np.random.default_rng(int(params["seed"]))
    width = float(params["width"])
    quay_h = rng.uniform(1.5, 4.0)
    quay_d = rng.uniform(30, 80)
    concrete = tuple(np.array([0.35, 0.34, 0.32]) * rng.uniform(0.7, 1.2))
    parts = [box((width, quay_d, quay_h + 3), (0, -quay_d / 2, (quay_h - 3) / 2), concrete, "ground")]
    x = -width / 2
    while x < width / 2:
        kind = rng.choice(["warehouse", "stack", "crane", "gap", "tower"], p=[0.35, 0.3, 0.12, 0.13, 0.1])
        w = rng.uniform(15, 80)
        cx = x + w / 2
        if kind == "warehouse":
            h = rng.uniform(8, 25)
            parts.append(
                box(
                    (w, rng.uniform(20, 50), h),
                    (cx, -quay_d * 0.6, quay_h + h / 2),
                    BUILDINGS[int(rng.integers(len(BUILDINGS)))],
                    "ground",
                )
            )
        elif kind == "tower":
            h = rng.uniform(25, 80)
            parts.append(
                box(
                    (w * 0.5, w * 0.5, h),
                    (cx, -quay_d * 0.7, quay_h + h / 2),
                    BUILDINGS[int(rng.integers(len(BUILDINGS)))],
                    "ground",
                )
            )
        elif kind == "stack":
            for i in range(int(w // 6.5)):
                for level in range(int(rng.integers(1, 5))):
                    color = CONTAINERS[int(rng.integers(len(CONTAINERS)))]
                    parts.append(
                        box(
                            (6.0, 12.0, 2.6),
                            (x + 3.2 + 6.5 * i, -quay_d * 0.5, quay_h + 1.3 + 2.6 * level),
                            color,
                            "cargo",
                        )
                    )
        elif kind == "crane":
            parts.extend(_gantry_crane(rng, cx, -8.0, quay_h))
        x += w + rng.uniform(2, 15)
    behind = dict(params, depth=float(params["depth"]), height=float(params["height"]) * 0.6)
    parts.append(coastline(behind).translated((0, -quay_d - 10, 0)))
    return merge(parts)


def _gantry_crane(rng: np.random.Generator, x: float, y: float, base: float) -> list[Mesh]:
    color = [(0.55, 0.08, 0.03), (0.6, 0.45, 0.02), (0.08, 0.18, 0.4), (0.7, 0.7, 0.7)][int(rng.integers(4))]
    h, span, boom = rng.uniform(35, 60), rng.uniform(15, 30), rng.uniform(30, 60)
    legs = [
        box((1.5, 1.5, h), (x + dx, y + dy, base + h / 2), color, "metal")
        for dx in (-span / 3, span / 3)
        for dy in (0, -span)
    ]
    beam = box((3, span + boom, 3), (x, y - span / 2 + boom / 2, base + h), color, "metal")
    house = box((6, 8, 5), (x, y + 2, base + h - 4), (0.8, 0.8, 0.8), "superstructure")
    return [*legs, beam, house]


BACKGROUND_BUILDERS: dict[str, Callable[[dict[str, Any]], Mesh]] = {
    "coastline": coastline,
    "harbour": harbour,
}
