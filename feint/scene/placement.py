"""Placing bottles and props on a set without interpenetration, as discs on the plane z = 0.

A standing object is one disc (its widest radius); a lying bottle is a row of discs along its length, a
capsule that over-covers the neck a little. Discs keep a small gap, so nothing touches or overlaps, and
every disc stays on the set's support (the table top, the belt, the shelf board) or in a crate's cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from feint.assets.bottles.sets import Support

GAP = 0.004  # metres between neighbouring objects
TRIES = 200


@dataclass(frozen=True)
class Item:
    radius: float  # widest radius
    length: float  # height (standing), length (lying)


@dataclass(frozen=True)
class Spot:
    """Where an object stands: its base centre, and for a lying bottle the way it points (base to mouth);
    for a standing one `heading` only turns it about its own axis."""

    x: float
    y: float
    heading: float  # degrees from +x
    lying: bool


class Packer:
    """The discs placed so far on one support; each `place_*` adds an object or returns None."""

    def __init__(self, support: Support, rng: np.random.Generator):
        self.support = support
        self.rng = rng
        self.discs = np.zeros((0, 3))
        self.free_cells = list(support.cells)

    def window(self, items: list[Item], spread: float, lying: bool) -> tuple[float, float, float, float]:
        """A square of the support holding `spread` times the objects' own footprint (a strip along a
        narrow belt or shelf), placed at random: the objects of an image stand together, as they are
        photographed, rather than over the whole table."""
        s = self.support
        area = sum((2 * it.radius + GAP) * ((it.length if lying else 2 * it.radius) + GAP) for it in items)
        side = math.sqrt(area * spread)
        w, h = min(side, s.x1 - s.x0), min(side, s.y1 - s.y0)
        w, h = min(max(w, area * spread / h), s.x1 - s.x0), min(max(h, area * spread / w), s.y1 - s.y0)
        x0 = self.rng.uniform(s.x0, s.x1 - w)
        y0 = self.rng.uniform(s.y0, s.y1 - h)
        return x0, x0 + w, y0, y0 + h

    def _discs(self, item: Item, spot: Spot) -> np.ndarray:
        if not spot.lying:
            return np.array([[spot.x, spot.y, item.radius]])
        a = math.radians(spot.heading)
        n = max(2, math.ceil((item.length - 2 * item.radius) / item.radius) + 1)
        s = np.linspace(item.radius, max(item.length - item.radius, item.radius), n)
        return np.column_stack([spot.x + s * math.cos(a), spot.y + s * math.sin(a), np.full(n, item.radius)])

    def _fits(self, discs: np.ndarray) -> bool:
        s = self.support
        x, y, r = discs[:, 0], discs[:, 1], discs[:, 2]
        if (x - r < s.x0).any() or (x + r > s.x1).any() or (y - r < s.y0).any() or (y + r > s.y1).any():
            return False
        if not len(self.discs):
            return True
        d = np.hypot(x[:, None] - self.discs[None, :, 0], y[:, None] - self.discs[None, :, 1])
        return bool((d >= r[:, None] + self.discs[None, :, 2] + GAP).all())

    def _take(self, item: Item, spot: Spot) -> Spot | None:
        discs = self._discs(item, spot)
        if not self._fits(discs):
            return None
        self.discs = np.concatenate([self.discs, discs])
        return spot

    def place_random(self, item: Item, window: tuple[float, float, float, float], lying: bool) -> Spot | None:
        """Anywhere in `window` (else anywhere on the support), turned at random; lying bottles roughly
        along the support's preferred direction when it has one (a belt's run, a shelf's front)."""
        s = self.support
        for box in (window, (s.x0, s.x1, s.y0, s.y1)):
            for _ in range(TRIES):
                heading = float(self.rng.uniform(0, 360))
                if lying and s.lying_yaw is not None:
                    heading = s.lying_yaw + float(self.rng.normal(0, 6)) + 180.0 * int(self.rng.integers(2))
                cx, cy = self.rng.uniform(box[0], box[1]), self.rng.uniform(box[2], box[3])
                if lying:  # (cx, cy) is the middle of the bottle; the spot is its base
                    a = math.radians(heading)
                    cx, cy = cx - 0.5 * item.length * math.cos(a), cy - 0.5 * item.length * math.sin(a)
                spot = self._take(item, Spot(float(cx), float(cy), heading, lying))
                if spot is not None:
                    return spot
        return None

    def place_group(self, items: list[Item], window: tuple[float, float, float, float]) -> list[Spot | None]:
        """Standing shoulder to shoulder on a hexagonal lattice around the window's centre: six-packs,
        rows on a shelf (the lattice is square to the support's direction, if it has one)."""
        pitch = 2 * max(it.radius for it in items) + GAP * 1.5
        k = math.ceil(math.sqrt(len(items))) + 2
        i, j = np.meshgrid(np.arange(-k, k + 1), np.arange(-k, k + 1))
        lattice = np.column_stack([(i + 0.5 * (j % 2)).ravel() * pitch, j.ravel() * pitch * math.sqrt(3) / 2])
        turn = math.radians(
            self.support.lying_yaw if self.support.lying_yaw is not None else self.rng.uniform(0, 60)
        )
        rot = np.array([[math.cos(turn), -math.sin(turn)], [math.sin(turn), math.cos(turn)]])
        centre = np.array([(window[0] + window[1]) / 2, (window[2] + window[3]) / 2])
        points = lattice @ rot.T + centre
        order = np.argsort(np.hypot(*(points - centre).T) + self.rng.uniform(0, 0.2 * pitch, len(points)))
        spots: list[Spot | None] = []
        queue = [points[o] for o in order]
        for item in items:
            spot = None
            while queue and spot is None:
                x, y = queue.pop(0)
                spot = self._take(item, Spot(float(x), float(y), float(self.rng.uniform(0, 360)), False))
            spots.append(spot)
        return spots

    def place_in_cell(self, item: Item) -> Spot | None:
        """In a free cell of a crate, if the object fits it."""
        if not self.free_cells:
            return None
        x, y = self.free_cells.pop(int(self.rng.integers(len(self.free_cells))))
        if item.radius > 0.5 * self.support.cell:
            return None
        return Spot(x, y, float(self.rng.uniform(0, 360)), False)
