"""Destroyers and frigates: a slim grey hull with a sharp flared bow, a stepped superstructure with
slanted walls, a lattice or enclosed mast, a gun forward, VLS hatches, funnels, a hangar and the hull
number on the bow.

Version 2 gives them what tells a destroyer from a carrier's island in a side view at 224 px: a taller
superstructure (up to five levels) with a bridge glazed round its front and wings, a mast of thick
members with platforms and several yards, boats in davits between the funnels, doors on the hangar and
a larger hull number.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import hull_spec, paint_from
from feint.assets.ships.geometry import (
    ShapeBuilder,
    axis_rects,
    beam,
    box,
    hull_number,
    prism,
    rounded_rect,
    span_box,
)
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import BLACK, DARK_METAL, WHITE, WINDOW, paint, shade
from feint.assets.ships.parts import funnel, lattice_mast, lifeboats, mast, radar_dome

VARIANTS = ("aegis", "stealth", "classic")
WEIGHTS = (0.55, 0.2, 0.25)  # most destroyers in photos carry a lattice mast on a broad superstructure


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS, WEIGHTS)
    length = S.uniform(rng, 125.0, 168.0)
    grey = paint(rng, "navy_grey", 0.04)
    return {
        "variant": variant,
        "length": length,
        "beam": length / S.uniform(rng, 7.6, 9.2),
        "draft": S.uniform(rng, 5.0, 6.5),
        "freeboard": S.uniform(rng, 4.8, 6.5),
        "bow": S.choice(rng, ("raked", "bulbous"), (0.7, 0.3)),
        "stern": "transom",
        "bow_rake": S.uniform(rng, 0.8, 1.4),
        "stern_rake": 0.0,
        "sheer_bow": S.uniform(rng, 1.5, 4.0),
        "sheer_stern": 0.0,
        "entry": S.uniform(rng, 0.35, 0.5),
        "run": S.uniform(rng, 0.15, 0.3),
        "bow_fullness": S.uniform(rng, 1.3, 1.7),
        "waterline_fullness": S.uniform(rng, 0.95, 1.1),
        "stern_fullness": S.uniform(rng, 1.5, 2.5),
        "section": S.uniform(rng, 2.0, 3.5),
        "transom": S.uniform(rng, 0.6, 0.8),
        "stern_lift": S.uniform(rng, 0.5, 0.8),
        "bulb": 0.5,
        "flare": S.uniform(rng, -0.06, 0.0) if variant == "stealth" else S.uniform(rng, 0.02, 0.12),
        "hull_color": grey,
        "bottom_color": paint(rng, "antifouling") if S.chance(rng, 0.4) else BLACK,
        "deck_color": paint(rng, "navy_deck"),
        "boot_top": S.uniform(rng, 0.0, 0.8),
        "superstructure_color": shade(grey, S.uniform(rng, 0.95, 1.12)),
        "super_start": S.uniform(rng, 0.3, 0.42),
        "super_end": S.uniform(rng, 0.27, 0.35),
        "levels": S.integer(rng, 3, 5),
        "level_height": S.uniform(rng, 2.9, 3.5),
        "taper": S.uniform(rng, 0.05, 0.2),
        "mast_height": S.uniform(rng, 18.0, 30.0),
        "mast_shade": S.uniform(rng, 0.7, 1.0),
        "lattice": S.chance(rng, 0.7),
        "funnels": S.integer(rng, 1, 2),
        "gun_pos": S.uniform(rng, 0.12, 0.17),
        "aft_gun": variant == "classic" and S.chance(rng, 0.6),
        "hangar": S.uniform(rng, 0.14, 0.2),
        "number": str(S.integer(rng, 10, 999)),
        "number_color": WHITE if S.chance(rng, 0.7) else BLACK,
        "dome": variant == "stealth" and S.chance(rng, 0.5),
        "boats": S.integer(rng, 1, 2),
        "boat_color": paint(rng, "lifeboat") if S.chance(rng, 0.3) else shade(grey, 0.6),
        "aft_mast": variant != "stealth" and S.chance(rng, 0.6),
        "doors": S.integer(rng, 1, 4),
    }


def _tower(
    b: ShapeBuilder, x0: float, x1: float, hw: float, z0: float, z1: float, taper: float, color: list[float]
) -> np.ndarray:
    """A superstructure level with walls leaning inwards (stealthy shaping): the top is `taper` smaller."""
    poly = rounded_rect(x0, x1, hw)
    c = poly.mean(axis=0)
    top = c + (poly - c) * (1 - taper)
    b.add(prism(poly, z0, z1, top), color, "superstructure")
    return top


def _gun(b: ShapeBuilder, x: float, z: float, size: float, color: list[float]) -> None:
    poly = rounded_rect(x - size, x + size, 0.75 * size, 0.6, 0.0)
    b.add(prism(poly, z, z + 1.2 * size, (poly - [x, 0]) * [0.7, 0.75] + [x - 0.2 * size, 0]), color, "metal")
    b.add(
        beam((x + 0.5 * size, 0, z + 0.6 * size), (x + 4.2 * size, 0, z + 0.8 * size), 0.1 * size, 6),
        color,
        "metal",
    )


def _bridge(
    b: ShapeBuilder, top: np.ndarray, hw: float, width: float, z: float, level: float, color: list[float]
) -> None:
    """The bridge on the top level (outline `top`, from `z`): windows across its front and round onto
    its sides, and wings out to the ship's sides."""
    x_front, half = float(top[:, 0].max()), float(top[:, 1].max())
    z0, z1 = z + 0.45 * level, z + 0.8 * level
    b.add(axis_rects(0, x_front + 0.05, -0.55 * hw, 0.55 * hw, z0, z1), WINDOW, "window")
    for side in (1, -1):
        b.add(axis_rects(1, side * (half + 0.05), z0, z1, x_front - 5, x_front - 1, side), WINDOW, "window")
    wing = 0.5 * width + 0.3
    b.add(
        span_box(x_front - 4.0, x_front - 1.5, -wing, wing, z + 0.3 * level, z + 0.55 * level),
        color,
        "superstructure",
    )


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p))
    hull.add_to(b, paint_from(p))
    length, width, color = p["length"], p["beam"], p["superstructure_color"]
    x_stern, x_bow = hull.deck_x_range
    grey = p["hull_color"]
    hangar_x = x_stern + p["hangar"] * length
    xs0, xs1 = x_stern + p["super_start"] * length, x_bow - p["super_end"] * length
    z = float(hull.deck_z(xs1))
    hw = 0.4 * width
    level = p["level_height"]
    mast_color = shade(color, p["mast_shade"])
    _tower(b, hangar_x, xs1, hw, z - 0.5, z + level, 0.5 * p["taper"], color)
    b.add(span_box(hangar_x, hangar_x + 0.12 * length, -hw, hw, z, z + 2.2 * level), color, "superstructure")
    front, back = xs1 - 1.0, xs1 - 0.5 * (xs1 - xs0)
    for k in range(p["levels"]):
        zk = z + (k + 1) * level
        top = _tower(b, back, front, hw * (0.95 - 0.08 * k), zk, zk + level, p["taper"], color)
        if k == p["levels"] - 1:
            _bridge(b, top, hw, width, zk, level, color)
        if p["variant"] == "aegis" and k == 1:
            panel = min(0.2 * width, 0.8 * level)
            for side in (1, -1):
                b.add(
                    axis_rects(
                        1,
                        side * (hw * 0.8 + 0.1),
                        zk + 0.1,
                        zk + 0.1 + panel,
                        front - 4 - panel,
                        front - 4,
                        side,
                    ),
                    DARK_METAL,
                    "metal",
                )
        front -= 1.0 + 1.2 * p["taper"] * level
        back += 0.06 * (xs1 - xs0)
    z_top = z + (p["levels"] + 1) * level
    x_mast = 0.5 * (front + back)
    if p["variant"] == "stealth":
        base = rounded_rect(x_mast - 4, x_mast + 4, 3.0)
        b.add(
            prism(base, z_top, z_top + 0.5 * p["mast_height"], (base - [x_mast, 0]) * 0.5 + [x_mast, 0]),
            color,
            "superstructure",
        )
        mast(
            b,
            x_mast,
            z_top + 0.5 * p["mast_height"],
            0.4 * p["mast_height"],
            color,
            0.15,
            yards=((0.4, 3.0),),
        )
        if p["dome"]:
            radar_dome(b, x_mast, 0.0, z_top + 0.5 * p["mast_height"] - 1.0, 2.6, shade(WHITE, 0.8))
    elif p["lattice"]:
        h = p["mast_height"]
        lattice_mast(b, x_mast, z_top, h, 4.5, 1.2, mast_color, levels=4, member=0.22)
        for share, size in ((0.45, 3.6), (0.8, 2.4)):
            b.add(box((size, size, 0.6), (x_mast, 0.0, z_top + share * h)), mast_color, "metal")
        yards = ((0.2, 4.5), (0.5, 3.0), (0.8, 2.0))
        mast(b, x_mast, z_top + h, 6.0, mast_color, 0.2, yards=yards, radar=3.0)
    else:
        mast(
            b,
            x_mast,
            z_top,
            p["mast_height"],
            mast_color,
            0.6,
            yards=((0.4, 5.0), (0.55, 4.0), (0.8, 2.5)),
            radar=4.0,
            rake=1.5,
        )
    for k in range(p["funnels"]):
        xf = xs0 + (0.45 - 0.35 * k) * (xs1 - xs0)
        funnel(
            b,
            xf,
            z + level,
            5.0 + 2.0 * (p["variant"] == "classic"),
            6.5,
            0.3 * width,
            color,
            shade(BLACK, 1.5),
            rake=0.8,
            round_ends=0.1,
        )
    if p["variant"] == "classic":
        x2 = xs0 + 0.2 * (xs1 - xs0)
        lattice_mast(b, x2, z + level, 0.7 * p["mast_height"], 3.5, 1.0, color, levels=3)
    xb = xs0 + 0.3 * (xs1 - xs0)
    for side in (1, -1):
        lifeboats(
            b, xb + np.arange(p["boats"]) * 8.5, side * (hw + 0.9), z + level + 1.0, 7.5, p["boat_color"]
        )
    for k in range(p["doors"]):
        xd = hangar_x + (k + 0.5) * 0.12 * length / p["doors"]
        for side in (1, -1):
            b.add(
                axis_rects(1, side * (hw + 0.05), z + 0.2, z + 2.1, xd - 0.5, xd + 0.5, side),
                DARK_METAL,
                "metal",
            )
    if p["aft_mast"]:
        mast(
            b,
            hangar_x + 0.1 * length,
            z + 2.2 * level,
            0.5 * p["mast_height"],
            mast_color,
            0.3,
            yards=((0.7, 2.5),),
        )
    xg = x_bow - p["gun_pos"] * length
    _gun(b, xg, float(hull.deck_z(xg)), 2.2, color)
    if p["aft_gun"]:
        _gun(b, hangar_x - 7.0, float(hull.deck_z(hangar_x)), 2.0, color)
    vls_x0, vls_x1 = xg + 6, xs1 - 2
    if vls_x1 > vls_x0 + 3:
        zv = float(hull.deck_z(vls_x1)) + 0.05
        b.add(axis_rects(2, zv, vls_x0, vls_x1, -0.22 * width, 0.22 * width), shade(grey, 0.7), "deck")
    xn = x_bow - 0.1 * length
    zn = float(hull.deck_z(xn)) - 3.8
    hb = float(hull.side_line(zn + 1.3, xn - 1, xn + 1, 2)[:, 1].mean())
    for side in (1, -1):
        b.add(hull_number(p["number"], xn, zn, 3.2, side * (hb + 0.15)), p["number_color"], "hull")
    return b.mesh()


register_ship(ShipBuilder(name="ddg", variants=VARIANTS, sample=sample, build=build, version=2))
