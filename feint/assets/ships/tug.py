"""Tugs: short, beamy hulls with a high bow, a big wheelhouse glazed all round on a deckhouse, black
rubber fenders along the sheer and round the bow (and stern on ASD tugs), exhaust stacks and a mast.

Version 2 looks like the photos rather than a toy: a tall mast of thick members with light bars and
yards above the wheelhouse, low exhaust stacks beside it, a plain deckhouse with a few windows on its
sides under the glazed wheelhouse, and a thicker rubber belt.
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
    box,
    double_sided,
    lathe,
    outline_offset,
    prism,
    rounded_rect,
    span_box,
    strip,
    tube,
)
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import RUBBER, WINDOW, paint, shade
from feint.assets.ships.parts import block, funnel, mast, radar_dome

VARIANTS = ("harbour", "asd", "ocean")
LENGTHS = {"harbour": (20.0, 34.0), "asd": (22.0, 33.0), "ocean": (30.0, 40.0)}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, *LENGTHS[variant])
    hull_color = paint(rng, "tug_hull")
    return {
        "variant": variant,
        "length": length,
        "beam": length / S.uniform(rng, 2.5, 3.2),
        "draft": S.uniform(rng, 0.11, 0.16) * length,
        "freeboard": S.uniform(rng, 0.07, 0.1) * length,
        "bow": "raked",
        "stern": "transom" if variant != "harbour" or S.chance(rng, 0.4) else "cruiser",
        "bow_rake": S.uniform(rng, 0.4, 0.9),
        "stern_rake": S.uniform(rng, 0.1, 0.5),
        "sheer_bow": S.uniform(rng, 0.03, 0.06) * length,
        "sheer_stern": S.uniform(rng, 0.0, 0.02) * length,
        "entry": S.uniform(rng, 0.3, 0.45),
        "run": S.uniform(rng, 0.2, 0.35),
        "bow_fullness": S.uniform(rng, 1.8, 2.6),
        "waterline_fullness": S.uniform(rng, 1.4, 2.0),
        "stern_fullness": S.uniform(rng, 1.8, 3.0),
        "section": S.uniform(rng, 2.0, 4.0),
        "transom": S.uniform(rng, 0.6, 0.85),
        "flare": S.uniform(rng, 0.03, 0.12),
        "stern_lift": S.uniform(rng, 0.4, 0.7),
        "hull_color": hull_color,
        "bottom_color": paint(rng, "antifouling"),
        "deck_color": paint(rng, "deck_steel"),
        "boot_top": S.uniform(rng, 0.0, 0.5),
        "bulwark_color": paint(rng, "tug_upper") if S.chance(rng, 0.5) else hull_color,
        "bulwark": S.uniform(rng, 0.8, 1.2),
        "superstructure_color": paint(rng, "tug_upper", 0.03),
        "house_pos": S.uniform(rng, 0.5, 0.68),
        "house_length": S.uniform(rng, 0.25, 0.38),
        "house_width": S.uniform(rng, 0.65, 0.85),
        "house_decks": S.integer(rng, 1, 2) if variant == "harbour" else 2,
        "wheelhouse_height": S.uniform(rng, 2.4, 3.0),
        "wheelhouse_length": S.uniform(rng, 0.35, 0.6),
        "wheelhouse_flare": S.uniform(rng, 0.0, 0.5),
        "stacks": S.integer(rng, 1, 2),
        "stack_color": paint(rng, "funnel"),
        "mast_height": S.uniform(rng, 6.0, 11.0),
        "tyres": S.chance(rng, 0.5),
        "tyre_count": S.integer(rng, 4, 10),
        "bow_fender": S.uniform(rng, 0.6, 1.4),
        "winch": S.chance(rng, 0.8),
        "push_knees": variant == "harbour" and S.chance(rng, 0.35),
    }


def _fenders(b: ShapeBuilder, hull: Hull, p: dict[str, Any]) -> None:
    """Rubber belt along the sheer, a thick fender round the bow and, on some tugs, tyres on the sides."""
    x_stern, x_bow = hull.deck_x_range
    z = float(hull.deck_z(0.0)) - 0.5
    line = hull.side_line(z, x_stern + 0.3, x_bow, 20)
    for side in (1.0, -1.0):
        path = line * [1, side, 1] + [0, side * 0.15, 0]
        b.add(tube(path, 0.45, 6), RUBBER, "rubber")
    r = 0.5 * p["bow_fender"]
    zb = float(hull.deck_z(x_bow)) - 1.0 - r
    bow = hull.side_line(zb, x_bow - 0.22 * p["length"], x_bow, 10)
    arc = np.concatenate([bow * [1, -1, 1], bow[::-1]]) + [r * 0.3, 0, 0]
    for k in range(1 if p["variant"] == "ocean" else 2):
        b.add(tube(arc - [0, 0, k * 2.1 * r], r, 8), RUBBER, "rubber")
    if p["variant"] == "asd":
        zs = float(hull.deck_z(x_stern)) - 0.6 - r
        aft = hull.side_line(zs, x_stern, x_stern + 0.15 * p["length"], 6)
        b.add(tube(np.concatenate([aft[::-1], aft * [1, -1, 1]]) - [0.3 * r, 0, 0], r, 8), RUBBER, "rubber")
    if p["push_knees"]:
        top = float(hull.deck_z(x_bow)) + 1.5
        stem = hull.side_line(top - 2.0, x_bow - 0.25 * p["length"], x_bow, 12)[::-1]  # y grows aft
        for y in (-0.3, 0.3):
            yy = y * float(hull.deck_half_beam(x_bow - 1.0))
            x = float(np.interp(abs(yy), stem[:, 1], stem[:, 0]))
            b.add(span_box(x - 1.5, x + 0.6, yy - 0.25, yy + 0.25, 0.0, top), p["hull_color"], "hull")
            b.add(span_box(x + 0.6, x + 1.1, yy - 0.3, yy + 0.3, 0.3, top - 0.2), RUBBER, "rubber")
    if p["tyres"]:
        xs = np.linspace(x_stern + 0.2 * p["length"], x_bow - 0.25 * p["length"], p["tyre_count"])
        pts = hull.side_line(z - 0.9, xs[0], xs[-1], len(xs))
        for x, y, zz in pts:
            for side in (1.0, -1.0):
                b.add(
                    lathe(np.array([-0.2, 0.2]), np.array([0.55, 0.55]), 8)
                    .rotated(np.array([[0, -1, 0], [1, 0, 0], [0, 0, 1]], dtype=np.float64))
                    .moved((x, side * (y + 0.25), zz)),
                    RUBBER,
                    "rubber",
                )


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p), stations=26)
    hull.add_to(b, paint_from(p))
    length, width = p["length"], p["beam"]
    x_stern, x_bow = hull.deck_x_range
    deck = hull.deck_polygon(x_stern + 0.01, x_bow - 0.05, 14)
    ring = np.column_stack([deck, hull.deck_z(deck[:, 0])])
    loop = np.vstack([ring, ring[:1]])
    b.add(double_sided(strip(loop, loop + [0, 0, p["bulwark"]])), p["bulwark_color"], "hull")
    _fenders(b, hull, p)
    color = p["superstructure_color"]
    xh1 = x_stern + p["house_pos"] * length
    xh0 = xh1 - p["house_length"] * length
    hw = p["house_width"] * float(hull.deck_half_beam(xh1))
    z = float(hull.deck_z(xh1))
    if p["variant"] == "ocean":
        b.add(prism(hull.deck_polygon(xh0 - 1.0, x_bow, 10), z - 1.0, z + 2.2), p["bulwark_color"], "hull")
        z += 2.2
    dh = 2.5
    for k in range(p["house_decks"]):
        block(
            b,
            xh0 + 0.4 * k * (xh1 - xh0),
            xh1,
            hw,
            z + k * dh,
            z + (k + 1) * dh,
            color,
            front_round=0.3,
            windows="sides" if k == 0 else "front_sides",
            pitch=3.2 if k == 0 else 2.2,
            sill=0.4,
            head=0.75,
        )
    zw = z + p["house_decks"] * dh
    wl = p["wheelhouse_length"] * (xh1 - xh0)
    wf = p["wheelhouse_flare"]
    plan = rounded_rect(xh1 - wl, xh1 + 0.2 * wf, hw * 0.9, 0.35, 0.2)
    top = outline_offset(plan, 0.5 * wf)
    wh = p["wheelhouse_height"]
    b.add(prism(plan, zw, zw + wh, top), color, "superstructure")
    b.add(
        prism(
            outline_offset(plan, 0.03 + 0.2 * wf),
            zw + 0.35 * wh,
            zw + 0.9 * wh,
            outline_offset(plan, 0.03 + 0.48 * wf),
            caps=False,
        ),
        WINDOW,
        "window",
    )
    b.add(prism(outline_offset(top, 0.3), zw + wh, zw + wh + 0.3), color, "superstructure")
    xm = xh1 - 0.5 * wl
    yards = ((0.35, 1.8), (0.6, 1.4), (0.85, 0.9))
    mast(b, xm, zw + wh + 0.3, p["mast_height"], color, 0.25, yards=yards, radar=2.2, rake=0.5)
    radar_dome(b, xm - 1.2, 0.5 * hw, zw + wh + 0.3, 0.45, color)
    for k in range(p["stacks"]):
        y = 0.0 if p["stacks"] == 1 else (k - 0.5) * 1.2 * hw
        xs = xh0 + 1.5 if p["variant"] != "asd" else xh1 - wl - 1.2
        funnel(b, xs, z + dh, 1.6 + 0.04 * length, 1.6, 1.0, p["stack_color"], RUBBER, rake=0.6, y=y)
    if p["winch"]:
        xw = xh0 - 0.1 * length
        zz = float(hull.deck_z(xw))
        b.add(box((2.0, 0.6 * width, 1.6), (xw, 0, zz + 0.8)), shade(color, 0.6), "metal")
    return b.mesh()


register_ship(ShipBuilder(name="tug", variants=VARIANTS, sample=sample, build=build, version=2))
