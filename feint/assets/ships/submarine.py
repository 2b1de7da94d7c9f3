"""Submarines: a dark body of revolution riding low in the water, a sail (fin) with optional planes and
masts, a flat casing on top and a cruciform or X tail. `depth` sinks the whole boat from fully surfaced
(the round hull showing) to only the sail above the water."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh, rotation_matrix
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.geometry import (
    Shape,
    ShapeBuilder,
    beam,
    hull_number,
    lathe,
    prism,
    rounded_rect,
    span_box,
)
from feint.assets.ships.palette import WHITE, paint, shade

VARIANTS = ("ssk", "ssn", "ssbn")
SIZES = {
    "ssk": ((60.0, 80.0), (7.0, 10.5)),
    "ssn": ((90.0, 118.0), (9.0, 12.0)),
    "ssbn": ((130.0, 170.0), (10.0, 14.0)),
}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    (l0, l1), (d0, d1) = SIZES[variant]
    color = paint(rng, "submarine", 0.15)
    return {
        "variant": variant,
        "length": S.uniform(rng, l0, l1),
        "diameter": S.uniform(rng, d0, d1),
        "nose": S.uniform(rng, 0.08, 0.16),
        "tail": S.uniform(rng, 0.25, 0.38),
        "tail_power": S.uniform(rng, 1.4, 2.2),
        "depth": S.uniform(rng, 0.2, 1.0),  # most photos show the hull awash, the sail above
        "color": color,
        "casing_color": shade(color, S.uniform(rng, 0.8, 1.3)),
        "casing": variant != "ssn" or S.chance(rng, 0.3),
        "casing_width": S.uniform(rng, 0.3, 0.55),
        "sail_pos": S.uniform(rng, 0.2, 0.36),
        "sail_length": S.uniform(rng, 0.07, 0.13),
        "sail_width": S.uniform(rng, 0.12, 0.2),
        "sail_height": S.uniform(rng, 4.0, 8.0),
        "sail_taper": S.uniform(rng, 0.0, 0.3),
        "sail_back_round": S.uniform(rng, 0.2, 1.2),
        "sail_planes": S.chance(rng, 0.5 if variant == "ssk" else 0.6),
        "bow_planes": S.chance(rng, 0.4),
        "x_tail": S.chance(rng, 0.35 if variant == "ssk" else 0.15),
        "fin_size": S.uniform(rng, 0.35, 0.6),
        "masts": S.integer(rng, 0, 4),
        "mast_heights": [S.uniform(rng, 0.5, 4.0) for _ in range(4)],
        "hump": variant == "ssbn" and S.chance(rng, 0.6),
        "hump_height": S.uniform(rng, 0.8, 2.5),
        "number": str(S.integer(rng, 10, 999)) if S.chance(rng, 0.3) else "",
    }


def _radius(p: dict[str, Any], t: np.ndarray) -> np.ndarray:
    """Hull radius along t in [0, 1] (stern to bow): tapered tail, parallel body, elliptical nose."""
    r = p["diameter"] / 2
    tail = np.clip(t / p["tail"], 0, 1)
    nose = np.clip((1 - t) / p["nose"], 0, 1)
    return r * (0.06 + 0.94 * (1 - (1 - tail) ** p["tail_power"])) * np.sqrt(1 - (1 - nose) ** 2)


def _fin(x_back: float, chord: float, span: float, thickness: float, angle: float, sweep: float) -> Shape:
    """A thin trapezoid fin along +y rolled to `angle` about the hull axis (rudders, planes)."""
    poly = np.array(
        [[x_back, 0.0], [x_back + chord, 0.0], [x_back + chord - sweep, span], [x_back + 0.4 * chord, span]]
    )
    return prism(poly, -thickness / 2, thickness / 2).rotated(rotation_matrix(roll=angle))


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    length, r = p["length"], p["diameter"] / 2
    color = p["color"]
    t = np.concatenate(
        [
            np.linspace(0, p["tail"], 8),
            np.linspace(p["tail"], 1 - p["nose"], 4)[1:],
            1 - p["nose"] * (1 - np.sin(np.linspace(0, np.pi / 2, 7)[1:])),
        ]
    )
    xs = (t - 0.5) * length
    b.add(lathe(xs, _radius(p, t), 18), color, "hull")
    x_stern = -length / 2
    if p["casing"]:
        hw = p["casing_width"] * r
        x0, x1 = x_stern + 0.9 * p["tail"] * length, length / 2 - 0.9 * p["nose"] * length
        b.add(span_box(x0, x1, -hw, hw, 0.85 * r, r + 0.35), p["casing_color"], "deck")
    xs1 = length / 2 - p["sail_pos"] * length
    xs0 = xs1 - p["sail_length"] * length
    sw = p["sail_width"] * r * 2 / 2
    plan = rounded_rect(xs0, xs1, sw, 1.0, p["sail_back_round"])
    centre = plan.mean(axis=0)
    top = centre + (plan - centre) * [1 - p["sail_taper"], 1 - 0.3 * p["sail_taper"]]
    z_top = r + p["sail_height"]
    b.add(prism(plan, 0.5 * r, z_top, top), color, "superstructure")
    if p["hump"]:
        hx1 = xs0 - 1.0
        hx0 = hx1 - 0.22 * length
        b.add(prism(rounded_rect(hx0, hx1, 0.5 * r, 0.0, 1.5), 0.8 * r, r + p["hump_height"]), color, "hull")
    if p["sail_planes"]:
        chord = 0.5 * (xs1 - xs0)
        for angle in (0.0, np.pi):
            b.add(
                _fin(xs1 - 1.4 * chord, chord, 0.75 * r, 0.3, angle, 0.3 * chord).moved(
                    (0, 0, r + 0.6 * p["sail_height"])
                ),
                color,
                "superstructure",
            )
    if p["bow_planes"]:
        xb = length / 2 - 0.12 * length
        for angle in (0.0, np.pi):
            b.add(_fin(xb, 2.5, 0.6 * r + r, 0.25, angle, 0.5).moved((0, 0, 0.2 * r)), color, "hull")
    span = p["fin_size"] * r * 1.6
    chord = 0.06 * length
    x_fin = x_stern + 0.02 * length
    offset = np.pi / 4 if p["x_tail"] else 0.0
    for k in range(4):
        b.add(_fin(x_fin, chord, span + 0.4 * r, 0.35, offset + k * np.pi / 2, 0.4 * chord), color, "hull")
    heights = p["mast_heights"]
    for k in range(p["masts"]):
        xm = xs0 + (0.3 + 0.15 * k) * (xs1 - xs0)
        b.add(
            beam((xm, 0, z_top), (xm, 0, z_top + heights[k]), 0.15 + 0.05 * k, 6), shade(color, 1.4), "metal"
        )
    if p["number"]:
        for side in (1, -1):
            b.add(
                hull_number(
                    p["number"],
                    (xs0 + xs1) / 2,
                    r + 0.4 * p["sail_height"],
                    1.2,
                    side * (sw * (1 - 0.15 * p["sail_taper"]) + 0.1),
                ),
                WHITE,
                "superstructure",
            )
    z_axis = -0.25 * r - p["depth"] * (0.75 * r + 0.3)
    return b.mesh().translated((0.0, 0.0, z_axis))


register_ship(ShipBuilder(name="submarine", variants=VARIANTS, sample=sample, build=build))
