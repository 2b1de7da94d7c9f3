"""Bulk carriers: a long low hull with a row of hatch covers, the accommodation block right aft,
optional deck cranes between the hatches, and (in ballast) a wide band of red antifouling showing."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import (
    accommodation,
    accommodation_params,
    hull_spec,
    merchant_hull_params,
    paint_from,
)
from feint.assets.ships.geometry import ShapeBuilder, prism, span_box
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import paint, shade
from feint.assets.ships.parts import crane, mast

VARIANTS = ("geared", "gearless", "mini")
LENGTHS = {"geared": (150.0, 210.0), "gearless": (180.0, 295.0), "mini": (120.0, 145.0)}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, *LENGTHS[variant])
    p: dict[str, Any] = {
        "variant": variant,
        **merchant_hull_params(rng, length, beam_ratio=(5.6, 7.0), depth_ratio=(10.5, 12.5)),
    }
    p["hatches"] = S.integer(rng, 3, 5) if variant == "mini" else S.integer(rng, 5, 9)
    p["hatch_width"] = S.uniform(rng, 0.55, 0.72)
    p["hatch_height"] = S.uniform(rng, 2.2, 3.6)
    p["hatch_color"] = paint(rng, "hatch")
    p["forecastle"] = S.uniform(rng, 2.0, 3.2)
    p.update(accommodation_params(rng))
    p["cranes"] = variant != "gearless"
    p["crane_slews"] = [S.uniform(rng, -0.4, 0.4) + (np.pi if S.chance(rng, 0.5) else 0.0) for _ in range(4)]
    p["crane_color"] = paint(rng, "funnel") if S.chance(rng, 0.3) else paint(rng, "superstructure")
    return p


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p))
    hull.add_to(b, paint_from(p))
    length, beam, deck = p["length"], p["beam"], p["freeboard"]
    x_bow = hull.deck_x_range[1]
    fc_start = x_bow - 0.09 * length
    b.add(
        prism(
            hull.deck_polygon(fc_start, x_bow),
            float(hull.deck_z(fc_start)) - 0.2,
            float(hull.deck_z(fc_start)) + p["forecastle"],
        ),
        p["hull_color"],
        "hull",
    )
    aft_end = accommodation(b, hull, p, x_aft=-length / 2 + 0.035 * length)
    x0, x1 = aft_end + 0.03 * length, fc_start - 0.02 * length
    n = p["hatches"]
    pitch = (x1 - x0) / n
    hw = p["hatch_width"] * beam / 2
    for k in range(n):
        xa, xb = x0 + k * pitch + 0.09 * pitch, x0 + (k + 1) * pitch - 0.09 * pitch
        z = float(hull.deck_z((xa + xb) / 2))
        b.add(span_box(xa, xb, -hw, hw, z, z + 0.7 * p["hatch_height"]), shade(p["hatch_color"], 0.8), "deck")
        b.add(
            prism(
                np.array([[xa, -hw - 0.3], [xb, -hw - 0.3], [xb, hw + 0.3], [xa, hw + 0.3]]),
                z + 0.7 * p["hatch_height"],
                z + p["hatch_height"],
                np.array([[xa, -0.6 * hw], [xb, -0.6 * hw], [xb, 0.6 * hw], [xa, 0.6 * hw]]),
            ),
            p["hatch_color"],
            "deck",
        )
    if p["cranes"]:
        between = np.unique(np.round(np.linspace(1, n - 1, min(4, n - 1))).astype(int))
        for k, gap in enumerate(between):
            xc = x0 + gap * pitch
            z = float(hull.deck_z(xc))
            crane(
                b, xc, 0.0, z, 0.12 * beam + 3, 0.85 * pitch + 8, p["crane_slews"][k], 0.25, p["crane_color"]
            )
    mast(
        b,
        x_bow - 0.03 * length,
        float(hull.deck_z(x_bow)) + p["forecastle"],
        0.5 * deck + 6,
        p["superstructure_color"],
        0.25,
    )
    return b.mesh()


register_ship(ShipBuilder(name="bulkers", variants=VARIANTS, sample=sample, build=build))
