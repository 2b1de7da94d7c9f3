"""Car carriers (PCTC): a slab-sided box almost as tall as it is wide, its bow rounded or flat, the bridge
a window band right at the top front, a stern ramp, and paint split into a coloured lower hull and a
white or grey upper box. Version 2 paints most with a shipping line's name in big block capitals
amidships, the mark most photos of car carriers show."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import hull_spec
from feint.assets.ships.geometry import LETTERS, ShapeBuilder, box, hull_number, side_panels, span_box
from feint.assets.ships.hull import Hull, HullPaint
from feint.assets.ships.palette import DARK_METAL, WINDOW, paint, shade
from feint.assets.ships.parts import block, funnel, lifeboats, mast

VARIANTS = ("rounded", "flat_front", "raised_bridge")


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, 140.0, 230.0)
    beam = min(length / S.uniform(rng, 5.6, 6.8), 38.0)
    draft = S.uniform(rng, 7.5, 10.0)
    height = S.uniform(rng, 0.13, 0.17) * length + S.uniform(rng, -2, 2)
    blunt = variant == "flat_front"
    lower = paint(rng, "car_carrier_hull")
    upper = paint(rng, "car_carrier_upper", 0.03) if S.chance(rng, 0.75) else lower
    return {
        "variant": variant,
        "length": length,
        "beam": beam,
        "draft": draft,
        "freeboard": height,
        "bow": "bulbous",
        "stern": "transom",
        "bow_rake": S.uniform(rng, 0.0, 0.06) if blunt else S.uniform(rng, 0.08, 0.2),
        "stern_rake": S.uniform(rng, 0.0, 0.05),
        "sheer_bow": 0.0,
        "sheer_stern": 0.0,
        "entry": S.uniform(rng, 0.12, 0.2),
        "run": S.uniform(rng, 0.08, 0.15),
        "bow_fullness": S.uniform(rng, 4.0, 7.0) if blunt else S.uniform(rng, 2.2, 3.2),
        "waterline_fullness": S.uniform(rng, 1.2, 1.6),
        "stern_fullness": S.uniform(rng, 2.5, 4.0),
        "section": S.uniform(rng, 8.0, 14.0),
        "transom": S.uniform(rng, 0.88, 0.98),
        "flare": 0.0,
        "stern_lift": S.uniform(rng, 0.6, 0.8),
        "bulb": S.uniform(rng, 0.8, 1.1),
        "deck_drop": 0.0 if blunt else S.uniform(rng, 0.02, 0.12) * height,
        "hull_color": lower,
        "upper_color": upper,
        "bottom_color": paint(rng, "antifouling"),
        "deck_color": paint(rng, "deck_steel"),
        "boot_top": S.uniform(rng, 0.0, 2.0),
        "lower_share": S.uniform(rng, 0.2, 0.55),
        "stripe": S.chance(rng, 0.4),
        "stripe_color": paint(rng, "stripe"),
        "stripe_width": S.uniform(rng, 0.8, 2.5),
        "bridge_drop": S.uniform(rng, 1.5, 3.5),
        "bridge_depth": S.uniform(rng, 0.05, 0.09),
        "openings": S.integer(rng, 0, 40),
        "opening_height": S.uniform(rng, 0.55, 0.85),
        "ramp_angle": S.uniform(rng, 0.0, 0.4),
        "ramp_width": S.uniform(rng, 0.25, 0.4),
        "funnel_color": paint(rng, "funnel"),
        "funnel_height": S.uniform(rng, 2.0, 7.0),
        "lifeboat_color": paint(rng, "lifeboat"),
        "name": _line_name(rng) if S.chance(rng, 0.8) else "",
        "name_height": S.uniform(rng, 0.3, 0.55),
        "name_x": S.uniform(rng, -0.2, 0.15),
        "name_color": paint(rng, "car_carrier_name"),
    }


def _line_name(rng: np.random.Generator) -> str:
    """A shipping line's name in block capitals (one or two words), as car carriers carry it amidships."""
    words = [
        "".join(S.choice(rng, tuple(LETTERS)) for _ in range(S.integer(rng, 3, 9)))
        for _ in range(S.integer(rng, 1, 2))
    ]
    return " ".join(words)


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p))
    height, length, beam = p["freeboard"], p["length"], p["beam"]
    z_lower = p["lower_share"] * height
    bands: list[tuple[float, float, list[float]]] = [(z_lower, height + 1, p["upper_color"])]
    if p["stripe"]:
        bands.append((z_lower, z_lower + p["stripe_width"], p["stripe_color"]))
    hull.add_to(
        b, HullPaint(p["hull_color"], p["bottom_color"], p["deck_color"], p["boot_top"], tuple(bands))
    )
    x_stern, x_bow = hull.deck_x_range
    top = height
    bridge_x = x_bow - p["bridge_depth"] * length
    if p["variant"] == "raised_bridge":
        hw = 0.45 * beam
        block(
            b,
            bridge_x - 8,
            bridge_x + 2,
            hw,
            top,
            top + 3.0,
            p["upper_color"],
            windows="front_sides",
            sill=0.3,
            head=0.85,
            front_round=0.4,
        )
        b.add(box((2.5, beam + 1.0, 0.4), (bridge_x + 0.5, 0, top + 2.8)), p["upper_color"], "superstructure")
    else:
        z1 = top - p["bridge_drop"] + 2.2
        b.add(hull.band(top - p["bridge_drop"], z1, bridge_x, x_bow + 5, 0.08), WINDOW, "window")
    if p["openings"]:
        x_mid0 = x_stern + p["run"] * length + 4
        x_mid1 = x_bow - p["entry"] * length - 4
        xs = np.linspace(x_mid0, x_mid1, p["openings"])
        z = p["opening_height"] * height
        for side in (1, -1):
            b.add(
                side_panels(
                    xs - 0.9,
                    xs + 0.9,
                    np.full_like(xs, z),
                    np.full_like(xs, z + 1.2),
                    side * (beam / 2 + 0.05),
                ),
                shade(DARK_METAL, 0.5),
                "window",
            )
    if p["name"]:  # the shipping line amidships, in the upper band, never past the parallel body
        upper = height - z_lower
        h = min(p["name_height"] * upper, 12.0, 0.5 * length / (0.75 * len(p["name"])))
        z_name = z_lower + 0.5 * (upper - h)
        for side in (1, -1):
            name = hull_number(p["name"], p["name_x"] * length, z_name, h, side * (beam / 2 + 0.08))
            b.add(name, p["name_color"], "hull")
    ramp_w = p["ramp_width"] * beam
    ramp_len = min(0.55 * height, 18.0)
    angle = p["ramp_angle"]
    hinge = np.array([x_stern - 0.4, -0.2 * beam, 0.35 * height])
    ramp = box((0.6, ramp_w, ramp_len), (0, 0, ramp_len / 2)).rotated(
        np.array([[np.cos(angle), 0, -np.sin(angle)], [0, 1, 0], [np.sin(angle), 0, np.cos(angle)]])
    )
    b.add(ramp.moved(hinge), shade(p["hull_color"], 0.7), "metal")
    fx = x_stern + 0.15 * length
    b.add(
        span_box(fx - 6, fx + 6, -0.2 * beam, 0.2 * beam, top, top + 2.5), p["upper_color"], "superstructure"
    )
    funnel(
        b,
        fx,
        top + 2.5,
        p["funnel_height"],
        9.0,
        0.18 * beam,
        p["funnel_color"],
        DARK_METAL,
        rake=1.0,
        round_ends=0.4,
    )
    mast(b, bridge_x - 4, top, 8.0, p["upper_color"], 0.2, yards=((0.7, 2.5),), radar=3.0)
    lifeboats(b, [x_stern + 6], 0.3 * beam, top + 1.4, 8.0, p["lifeboat_color"])
    return b.mesh()


register_ship(ShipBuilder(name="car_carrier", variants=VARIANTS, sample=sample, build=build, version=2))
