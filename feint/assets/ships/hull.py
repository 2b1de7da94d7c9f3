"""A lofted ship hull: cross-sections along the length, shaped by a handful of naval-architecture knobs.

One generator covers everything from a RIB to a supertanker because classes differ in the same few
ways a designer would describe them: length/beam/draft/freeboard, how the bow and stern are drawn in
profile (raked, bulbous, straight, clipper; transom or cruiser stern), how fine the ends are in plan,
how boxy the midship section is, and how the deck rises at the ends (sheer).

A hull point is found from a station u in [0, 1] (stern to bow) and a height z: the stem and stern
profiles give the hull's x extent at that height, u interpolates between them, and the half-breadth
is the beam times a plan taper (fine ends) times a section shape (round or boxy bilge, flare).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from feint.assets.ships.geometry import Shape, ShapeBuilder, ellipsoid, strip
from feint.assets.ships.palette import Rgb

BOWS = ("raked", "bulbous", "straight", "clipper")
STERNS = ("transom", "cruiser")
_DEPTHS = np.array([1.0, 0.97, 0.88, 0.7, 0.45, 0.2, 0.0])  # below-water rows as shares of local draft


@dataclass(frozen=True)
class HullSpec:
    """Shape of a hull; lengths in metres, the rest are shares or exponents (see field comments)."""

    length: float
    beam: float
    draft: float
    freeboard: float  # deck height above the waterline amidships
    bow: str = "raked"
    stern: str = "transom"
    bow_rake: float = 0.5  # stem overhang per metre of stem height
    stern_rake: float = 0.1  # transom slope, or the overhang of a cruiser stern, per metre of height
    sheer_bow: float = 0.0  # deck rise at the bow (metres)
    sheer_stern: float = 0.0
    entry: float = 0.3  # share of the length over which the bow narrows
    run: float = 0.2  # share over which the stern narrows
    bow_fullness: float = 2.0  # plan exponent at deck: 1 a wedge, 2 elliptic, 3+ blunt
    waterline_fullness: float = 1.4  # plan exponent at the keel; below bow_fullness gives flare
    stern_fullness: float = 2.0
    section: float = 6.0  # midship section exponent: 1 V-bottom, 2 round bilge, 8 box
    transom: float = 0.7  # transom width as a share of the beam (transom sterns)
    flare: float = 0.0  # growth of the half-breadth from waterline to deck (negative: tumblehome)
    stern_lift: float = 0.6  # share of the draft the keel rises to at the transom
    bulb: float = 1.0  # size of the bulb on bulbous bows
    deck_drop: float = 0.0  # metres the deck edge falls towards the stem (rounded car-carrier fronts)


@dataclass(frozen=True)
class HullPaint:
    """Paint scheme: topsides, antifouling below `boot_top` (z), horizontal stripes and the deck."""

    topside: Rgb
    bottom: Rgb
    deck: Rgb
    boot_top: float = 0.0
    bands: tuple[tuple[float, float, Rgb], ...] = field(default_factory=tuple)


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3 - 2 * t)


class Hull:
    """A hull shape that can be meshed and asked where its deck and sides are (to place parts on it)."""

    def __init__(self, spec: HullSpec, stations: int = 34):
        if spec.bow not in BOWS or spec.stern not in STERNS:
            raise ValueError(f"unknown bow {spec.bow!r} or stern {spec.stern!r}")
        self.spec = spec
        s = np.linspace(0, 1, stations)
        self.u = 0.5 - 0.5 * np.cos(np.pi * s)  # dense at the ends where the shape changes fast
        self._deck_x = self._x(self.u, self.deck_height(self.u))
        self._deck_y = self._y(self.u, self.deck_height(self.u))

    # ----- the shape as functions of (u, z) -----------------------------------------------------------
    def deck_height(self, u: np.ndarray) -> np.ndarray:
        s = self.spec
        fwd = np.clip((u - 0.5) / 0.5, 0, 1)
        aft = np.clip((0.5 - u) / 0.5, 0, 1)
        bow = np.clip((u - 1 + s.entry) / s.entry, 0, 1)
        return s.freeboard + s.sheer_bow * fwd**2 + s.sheer_stern * aft**2 - s.deck_drop * bow**2

    def local_draft(self, u: np.ndarray) -> np.ndarray:
        """The keel rises towards the stern (run-up to the transom or the cruiser stern)."""
        s = self.spec
        return s.draft * (1 - s.stern_lift * (1 - _smoothstep(np.asarray(u) / 0.2)))

    def _stem_x(self, z: np.ndarray) -> np.ndarray:
        s = self.spec
        height = float(self.deck_height(np.array(1.0))) + s.draft
        h = np.clip((z + s.draft) / height, 0, 1)
        if s.bow == "clipper":
            return s.length / 2 - s.bow_rake * height * (1 - h) ** 0.6
        forefoot = 0.12 * height * np.clip(1 - h / 0.3, 0, 1) ** 2
        rake = 0.03 if s.bow == "straight" else s.bow_rake  # a plumb stem ignores the rake
        return s.length / 2 - rake * height * (1 - h) - forefoot

    def _stern_x(self, z: np.ndarray) -> np.ndarray:
        s = self.spec
        top = float(self.deck_height(np.array(0.0)))
        if s.stern == "transom":
            return -s.length / 2 + s.stern_rake * np.clip(top - z, 0, None)
        h = np.clip((z + s.draft) / (top + s.draft), 0, 1)
        return -s.length / 2 + s.stern_rake * (top + s.draft) * (1 - h) ** 1.5

    def _x(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        aft, fwd = self._stern_x(z), self._stem_x(z)
        return aft + u * (fwd - aft)

    def _y(self, u: np.ndarray, z: np.ndarray) -> np.ndarray:
        s = self.spec
        deck = self.deck_height(u)
        draft = self.local_draft(u)
        h = np.clip((z + draft) / (deck + draft), 0, 1)
        # plan taper: 1 over the parallel middle body, superellipses towards stem and stern
        p = s.waterline_fullness + (s.bow_fullness - s.waterline_fullness) * h
        t = np.clip((u - (1 - s.entry)) / s.entry, 0, 1)
        plan = (1 - t**p) ** (1 / p)
        t = np.clip((s.run - u) / s.run, 0, 1)
        width = s.transom if s.stern == "transom" else 0.0
        q = s.stern_fullness
        plan = plan * (width + (1 - width) * (1 - t**q) ** (1 / q))
        d = np.clip(-z / np.maximum(draft, 1e-6), 0, 1)
        n = s.section
        section = np.where(z < 0, (1 - d**n) ** (1 / n), 1 + s.flare * np.clip(z, 0, None) / s.freeboard)
        return s.beam / 2 * plan * section

    # ----- queries for placing parts --------------------------------------------------------------------
    def deck_z(self, x: float | np.ndarray) -> np.ndarray:
        """Deck height at x (sheer included)."""
        return np.interp(x, self._deck_x, self.deck_height(self.u))

    def deck_half_beam(self, x: float | np.ndarray) -> np.ndarray:
        return np.interp(x, self._deck_x, self._deck_y)

    @property
    def deck_x_range(self) -> tuple[float, float]:
        return float(self._deck_x[0]), float(self._deck_x[-1])

    def deck_polygon(self, x0: float, x1: float, n: int = 16, inset: float = 0.0) -> np.ndarray:
        """CCW plan outline of the deck between x0 and x1, `inset` metres inside the deck edge
        (forecastles, bulwarks, superstructures that follow the hull's plan)."""
        lo, hi = self.deck_x_range
        x = np.linspace(max(x0, lo), min(x1, hi), n)
        y = np.maximum(self.deck_half_beam(x) - inset, 0.02)
        return np.concatenate([np.column_stack([x, -y]), np.column_stack([x[::-1], y[::-1]])])

    def side_line(self, z: float, x0: float, x1: float, n: int = 24) -> np.ndarray:
        """(n, 3) points on the port side at height z from x0 to x1 (mirror y for starboard)."""
        u = np.linspace(0, 1, 160)
        zz = np.minimum(np.full_like(u, z), self.deck_height(u))
        xs, ys = self._x(u, zz), self._y(u, zz)
        x = np.linspace(max(x0, xs[0]), min(x1, xs[-1]), n)
        return np.column_stack([x, np.interp(x, xs, ys), np.interp(x, xs, zz)])

    def band(self, z0: float, z1: float, x0: float, x1: float, offset: float = 0.05, n: int = 24) -> Shape:
        """A strip hugging both sides of the hull between heights z0 and z1 from x0 to x1, floated
        `offset` metres off the plating: window rows of bridges fronts, painted stripes, fender belts."""
        lo, hi = self.side_line(z0, x0, x1, n), self.side_line(z1, x0, x1, n)
        out = np.array([0.0, 1.0, 0.0])
        port = strip(lo[::-1] + offset * out, hi[::-1] + offset * out)
        mirror = np.array([1.0, -1.0, 1.0])
        return port + strip(lo * mirror - offset * out, hi * mirror - offset * out)

    # ----- mesh ---------------------------------------------------------------------------------------
    def _rows(self, paint: HullPaint) -> np.ndarray:
        """Heights of the vertex rows per station: below water as shares of local draft, above water at
        every paint edge (so colour borders are straight) plus a few for flare, then the deck. Rows above
        a dropped deck collapse onto it (zero-area faces) so every station keeps the same row count."""
        s = self.spec
        edges = [paint.boot_top, 0.35 * s.freeboard, 0.7 * s.freeboard]
        for z0, z1, _ in paint.bands:
            edges += [z0, z1]
        levels = np.unique(np.round([e for e in edges if 0.02 < e < s.freeboard - 0.02], 4))
        n = len(self.u)
        below = -self.local_draft(self.u)[:, None] * _DEPTHS[None]
        deck = self.deck_height(self.u)[:, None]
        above = np.minimum(np.broadcast_to(levels, (n, len(levels))), deck)
        return np.concatenate([below, above, deck], axis=1)

    def add_to(self, builder: ShapeBuilder, paint: HullPaint) -> None:
        s = self.spec
        z = self._rows(paint)
        n, m = z.shape
        uu = np.broadcast_to(self.u[:, None], z.shape)
        x, y = self._x(uu, z), self._y(uu, z)
        port = np.stack([x, y, z], axis=-1).reshape(-1, 3)
        stbd = port * np.array([1.0, -1.0, 1.0])
        verts = np.concatenate([port, stbd])
        off = n * m
        i, j = np.meshgrid(np.arange(n - 1), np.arange(m - 1), indexing="ij")
        i, j = i.ravel(), j.ravel()
        a, b, c, d = i * m + j, (i + 1) * m + j, (i + 1) * m + j + 1, i * m + j + 1
        port_faces = np.column_stack([a, d, c, b])
        stbd_faces = np.column_stack([a, b, c, d]) + off
        zc = (z[i, j] + z[i, j + 1]) / 2
        side_colors = self._side_colors(zc, paint)
        builder.add(
            Shape(verts, [port_faces, stbd_faces]), np.concatenate([side_colors, side_colors]), "hull"
        )
        top = np.arange(n - 1) * m + m - 1
        deck = np.column_stack([top + off, top + m + off, top + m, top])
        builder.add(Shape(verts, [deck]), paint.deck, "deck")
        if s.stern == "transom":
            k = np.arange(m - 1)
            transom = np.column_stack([k, k + off, k + 1 + off, k + 1])
            builder.add(Shape(verts, [transom]), self._side_colors((z[0, :-1] + z[0, 1:]) / 2, paint), "hull")
        if s.bow == "bulbous":
            rx, ry, rz = 0.035 * s.length * s.bulb, 0.1 * s.beam * s.bulb, 0.3 * s.draft * s.bulb
            tip = float(self._stem_x(np.array(0.0)))
            builder.add(ellipsoid((tip - 0.6 * rx, 0.0, -0.55 * s.draft), (rx, ry, rz)), paint.bottom, "hull")

    @staticmethod
    def _side_colors(zc: np.ndarray, paint: HullPaint) -> np.ndarray:
        colors = np.tile(np.asarray(paint.topside, dtype=np.float64), (len(zc), 1))
        for z0, z1, color in paint.bands:
            colors[(zc > z0) & (zc < z1)] = color
        colors[zc < paint.boot_top] = paint.bottom
        return colors
