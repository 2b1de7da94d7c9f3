"""Fittings shared by the ship classes: deckhouses with windows, funnels, masts, cranes, rails, boats.

They add straight to a `ShapeBuilder` with their own colours and material parts, so a class module
reads as a list of what stands where on its deck.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from feint.assets.ships.geometry import (
    ShapeBuilder,
    beam,
    beams,
    box,
    lathe,
    prism,
    rounded_rect,
    span_box,
    wall_band,
    wall_panels,
)
from feint.assets.ships.palette import DARK_METAL, WINDOW, Rgb

#: Which walls get windows, as a range of the x component of the wall's outward normal.
WALLS: dict[str, tuple[float, float] | None] = {
    "all": None,
    "front": (0.5, 2),
    "back": (-2, -0.5),
    "sides": (-0.5, 0.5),
    "front_sides": (-0.5, 2),
}


def _edges_facing(poly: np.ndarray, walls: str) -> list[int]:
    """Indices of polygon edges whose outward normal points the way `walls` names (by its x share)."""
    bounds = WALLS[walls]
    if bounds is None:
        return list(range(len(poly)))
    lo, hi = bounds
    edge = np.roll(poly, -1, 0) - poly
    nx = edge[:, 1] / np.linalg.norm(edge, axis=1).clip(1e-9)
    return [int(k) for k in np.nonzero((nx > lo) & (nx <= hi))[0]]


def block(
    b: ShapeBuilder,
    x0: float,
    x1: float,
    half_width: float,
    z0: float,
    z1: float,
    color: Rgb,
    front_round: float = 0.0,
    back_round: float = 0.0,
    windows: str | None = None,
    pitch: float | None = None,
    sill: float = 0.35,
    head: float = 0.8,
    window_color: Rgb = WINDOW,
    front_rake: float = 0.0,
    y: float = 0.0,
) -> None:
    """One deckhouse tier from x0 to x1, z0 to z1, with windows on the walls named by `windows`.

    Windows run from `sill` to `head` (shares of the tier height), as one band (`pitch` None) or one
    every `pitch` metres. `front_rake` pulls the top of the front wall aft (metres), as on bridges and
    yacht windscreens, and the windows then follow the sloped walls as a band; `y` moves the tier off
    the centreline (carrier islands).
    """
    poly = rounded_rect(x0, x1, half_width, front_round, back_round) + [0.0, y]
    top = None
    if front_rake:
        mid = (x0 + x1) / 2
        top = poly.copy()
        front = top[:, 0] > mid
        top[front, 0] -= front_rake * (top[front, 0] - mid) / max(top[front, 0].max() - mid, 1e-6)
    b.add(prism(poly, z0, z1, top), color, "superstructure")
    if windows is None:
        return
    h = z1 - z0
    edges = _edges_facing(poly, windows)
    if top is None:
        b.add(wall_panels(poly, z0 + sill * h, z0 + head * h, pitch, edges=edges), window_color, "window")
    else:
        lo, hi = poly + (top - poly) * sill, poly + (top - poly) * head
        b.add(wall_band(lo, hi, z0 + sill * h, z0 + head * h, edges), window_color, "window")


def funnel(
    b: ShapeBuilder,
    x: float,
    z0: float,
    height: float,
    length: float,
    width: float,
    color: Rgb,
    top_color: Rgb,
    rake: float = 0.0,
    y: float = 0.0,
    round_ends: float = 1.0,
    top_band: float = 0.15,
) -> None:
    """A funnel (oval or rounded box) whose top is pushed aft by `rake` metres, with a coloured top band."""
    poly = rounded_rect(x - length / 2, x + length / 2, width / 2, round_ends, round_ends) + [0.0, y]
    z_band = z0 + height * (1 - top_band)
    shift = np.array([-rake, 0.0])
    b.add(prism(poly, z0, z_band, poly + shift * (1 - top_band), caps=False), color, "superstructure")
    b.add(prism(poly + shift * (1 - top_band), z_band, z0 + height, poly + shift), top_color, "metal")


def mast(
    b: ShapeBuilder,
    x: float,
    z0: float,
    height: float,
    color: Rgb,
    radius: float = 0.25,
    yards: Sequence[tuple[float, float]] = (),
    radar: float = 0.0,
    y: float = 0.0,
    rake: float = 0.0,
) -> None:
    """A pole mast with yards (height share, half span) and an optional radar bar of length `radar`."""
    top = (x - rake, y, z0 + height)
    b.add(beam((x, y, z0), top, radius, 6), color, "metal")
    for share, span in yards:
        zx = z0 + share * height
        xx = x - rake * share
        b.add(beam((xx, y - span, zx), (xx, y + span, zx), radius * 0.5), color, "metal")
    if radar:
        zr = z0 + 0.75 * height
        b.add(
            box((radar * 0.15, radar, radar * 0.06), (x - rake * 0.75 + 0.6 * radius, y, zr)),
            DARK_METAL,
            "metal",
        )


def lattice_mast(
    b: ShapeBuilder,
    x: float,
    z0: float,
    height: float,
    base: float,
    top: float,
    color: Rgb,
    levels: int = 4,
    y: float = 0.0,
    member: float | None = None,
) -> None:
    """A tapered four-legged truss tower (warship and carrier masts) with braces at each level; `member`:
    the radius of its legs and braces (default: 3 % of the base, at least 5 cm)."""
    zs = np.linspace(z0, z0 + height, levels + 1)
    half = np.linspace(base, top, levels + 1) / 2
    corners = np.array([[1, 1], [-1, 1], [-1, -1], [1, -1]], dtype=np.float64)
    rings = [
        np.column_stack([x + corners[:, 0] * h, y + corners[:, 1] * h, np.full(4, z)])
        for z, h in zip(zs, half, strict=True)
    ]
    starts, ends = [], []
    for k in range(levels):
        lo, hi = rings[k], rings[k + 1]
        starts += list(lo) + list(lo) + list(hi)
        ends += list(hi) + list(np.roll(hi, 1, 0)) + list(np.roll(hi, -1, 0))
    r = member if member is not None else max(0.03 * base, 0.05)
    b.add(beams(np.asarray(starts), np.asarray(ends), r, 3), color, "metal")


def crane(
    b: ShapeBuilder,
    x: float,
    y: float,
    z0: float,
    height: float,
    jib: float,
    slew: float,
    luff: float,
    color: Rgb,
    jib_color: Rgb | None = None,
) -> None:
    """A deck crane: pedestal, cab and a jib `jib` m long, slewed `slew` and luffed `luff` radians."""
    r = 0.06 * height + 0.4
    b.add(
        lathe(np.array([0.0, height]), np.array([r, r * 0.9]), 8)
        .rotated(np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64))
        .moved((x, y, z0)),
        color,
        "metal",
    )
    cab = 2.2 * r
    b.add(box((cab, cab, 0.8 * cab), (x, y, z0 + height + 0.4 * cab)), color, "superstructure")
    direction = np.array([np.cos(slew) * np.cos(luff), np.sin(slew) * np.cos(luff), np.sin(luff)])
    start = np.array([x, y, z0 + height + 0.3 * cab])
    b.add(beam(start, start + jib * direction, 0.22 * r + 0.15, 4), jib_color or color, "metal")


def lifeboats(
    b: ShapeBuilder,
    xs: np.ndarray | Sequence[float],
    y: float,
    z: float,
    length: float,
    color: Rgb,
    roof: Rgb | None = None,
) -> None:
    """Enclosed lifeboats (capsules with an orange/yellow hull and a lighter roof) hanging at `y`."""
    t = np.linspace(0, 1, 7)
    radii = length * 0.17 * np.sqrt(np.clip(np.sin(np.pi * t), 0, 1)) + 1e-3
    for x in np.atleast_1d(xs):
        body = lathe(t * length - length / 2, radii, 8, z_scale=1.1, center=(float(x), y, z))
        b.add(body, color, "superstructure")
        if roof is not None:
            b.add(
                box((0.5 * length, 0.22 * length, 0.05 * length), (float(x), y, z + 0.17 * length)),
                roof,
                "superstructure",
            )


def railing(b: ShapeBuilder, points: np.ndarray, height: float, color: Rgb, pitch: float = 2.0) -> None:
    """A rail along a polyline at `height` above it, with posts about every `pitch` metres."""
    p = np.asarray(points, dtype=np.float64)
    up = np.array([0.0, 0.0, height])
    r = max(0.02, 0.025 * height)
    b.add(beams(p[:-1] + up, p[1:] + up, r, 3), color, "metal")
    seg = np.linalg.norm(np.diff(p, axis=0), axis=1)
    dist = np.concatenate([[0], np.cumsum(seg)])
    at = np.arange(0, dist[-1] + 1e-6, pitch)
    posts = np.column_stack([np.interp(at, dist, p[:, k]) for k in range(3)])
    b.add(beams(posts, posts + up, r, 3), color, "metal")


def person(b: ShapeBuilder, x: float, y: float, z: float, color: Rgb, height: float = 1.75) -> None:
    """A crude standing person (torso, legs, head): crews on small boats set their scale in photos."""
    b.add(span_box(x - 0.12, x + 0.12, y - 0.18, y + 0.18, z, z + 0.5 * height), DARK_METAL, "cargo")
    b.add(
        span_box(x - 0.14, x + 0.14, y - 0.22, y + 0.22, z + 0.5 * height, z + 0.85 * height), color, "cargo"
    )
    b.add(
        span_box(x - 0.1, x + 0.1, y - 0.1, y + 0.1, z + 0.86 * height, z + height), [0.45, 0.3, 0.2], "cargo"
    )


def radar_dome(b: ShapeBuilder, x: float, y: float, z: float, radius: float, color: Rgb) -> None:
    """A radome on a short stalk (small boats, warships)."""
    t = np.linspace(0, np.pi / 2, 4)
    b.add(
        lathe(np.sin(t) * radius, np.cos(t) * radius, 10)
        .rotated(np.array([[0, 0, -1], [0, 1, 0], [1, 0, 0]], dtype=np.float64))
        .moved((x, y, z)),
        color,
        "superstructure",
    )
