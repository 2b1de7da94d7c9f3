"""Cruise ships: a tall white superstructure of many decks over most of the length, banded with dark
balcony and window rows, lifeboats along a promenade deck, funnels aft, and a raked bow."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import hull_spec, paint_from
from feint.assets.ships.geometry import ShapeBuilder, box, side_panels, span_box
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import WHITE, WINDOW, paint, shade
from feint.assets.ships.parts import block, funnel, lifeboats, mast, radar_dome

VARIANTS = ("modern", "mega", "classic", "expedition")
SIZES = {
    "modern": ((200.0, 300.0), (8, 11)),
    "mega": ((290.0, 360.0), (11, 15)),
    "classic": ((160.0, 260.0), (5, 8)),
    "expedition": ((150.0, 175.0), (4, 6)),
}
DECK = 2.95


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    (l0, l1), decks = SIZES[variant]
    length = S.uniform(rng, l0, l1)
    classic = variant == "classic"
    dark_hull = S.chance(rng, 0.6 if variant in ("classic", "expedition") else 0.2)
    return {
        "variant": variant,
        "length": length,
        "beam": length / S.uniform(rng, 6.6, 8.0),
        "draft": S.uniform(rng, 6.5, 8.8),
        "freeboard": S.uniform(rng, 0.042, 0.058) * length,
        "bow": "bulbous",
        "stern": "cruiser" if classic and S.chance(rng, 0.5) else "transom",
        "bow_rake": S.uniform(rng, 0.6, 1.2),
        "stern_rake": S.uniform(rng, 0.2, 0.6) if classic else 0.05,
        "sheer_bow": S.uniform(rng, 0.5, 3.0),
        "sheer_stern": S.uniform(rng, 0.0, 1.0),
        "entry": S.uniform(rng, 0.22, 0.32),
        "run": S.uniform(rng, 0.12, 0.22),
        "bow_fullness": S.uniform(rng, 1.6, 2.2),
        "waterline_fullness": S.uniform(rng, 1.1, 1.4),
        "stern_fullness": S.uniform(rng, 1.6, 2.4),
        "section": S.uniform(rng, 4.0, 8.0),
        "transom": S.uniform(rng, 0.7, 0.9),
        "flare": S.uniform(rng, 0.0, 0.04),
        "stern_lift": 0.7,
        "bulb": 0.8,
        "hull_color": paint(rng, "cruise_hull", 0.02) if dark_hull else WHITE,
        "bottom_color": paint(rng, "antifouling"),
        "deck_color": paint(rng, "wood"),
        "boot_top": S.uniform(rng, 0.0, 0.6),
        "superstructure_color": paint(rng, "superstructure", 0.02),
        "decks": S.integer(rng, *decks),
        "front_step": S.uniform(rng, 0.5, 3.0),
        "aft_step": S.uniform(rng, 0.0, 6.0),
        "super_start": S.uniform(rng, 0.06, 0.12),
        "super_end": S.uniform(rng, 0.16, 0.26),
        "overhang": S.uniform(rng, 0.0, 1.2),
        "front_round": S.uniform(rng, 0.3, 1.0),
        "balconies": not classic and S.chance(rng, 0.85),
        "window_pitch": S.uniform(rng, 2.8, 4.0),
        "hull_windows": S.integer(rng, 1, 3),
        "lifeboat_deck": S.integer(rng, 1, 2),
        "lifeboat_span": S.uniform(rng, 0.35, 0.55),
        "lifeboat_color": paint(rng, "lifeboat"),
        "funnels": 2 if S.chance(rng, 0.15) else 1,
        "funnel_pos": S.uniform(rng, 0.18, 0.32),
        "funnel_height": S.uniform(rng, 6.0, 14.0),
        "funnel_rake": S.uniform(rng, 0.0, 0.4),
        "funnel_color": paint(rng, "funnel"),
        "funnel_top_color": paint(rng, "boot_top"),
        "funnel_round": S.uniform(rng, 0.2, 1.0),
        "domes": S.integer(rng, 0, 2),
    }


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p))
    hull.add_to(b, paint_from(p))
    length, beam, color = p["length"], p["beam"], p["superstructure_color"]
    x_stern, x_bow = hull.deck_x_range
    z0 = p["freeboard"]
    for row in range(p["hull_windows"]):
        z = z0 - 2.2 - 2.6 * row
        xs = np.arange(x_stern + 0.1 * length, x_bow - 0.2 * length, 3.0)
        for side in (1, -1):
            b.add(
                side_panels(
                    xs,
                    xs + 0.8,
                    np.full_like(xs, z),
                    np.full_like(xs, z + 0.8),
                    side * (beam / 2 * (1 + p["flare"] * z / z0) + 0.04),
                ),
                WINDOW,
                "window",
            )
    aft = x_stern + p["super_start"] * length
    fwd = x_bow - p["super_end"] * length
    n = p["decks"]
    hw = beam / 2 + p["overhang"]
    boat_deck = p["lifeboat_deck"]
    for k in range(n):
        z = z0 + k * DECK
        front = fwd - p["front_step"] * max(0, k - n // 3)
        back = aft + p["aft_step"] * max(0, k - n // 2)
        if k == boat_deck:
            block(b, back, front, 0.8 * hw, z, z + DECK, shade(color, 0.35))
            continue
        windows = "sides" if p["balconies"] and 0 < k < n - 1 else "all"
        pitch = None if p["balconies"] else p["window_pitch"]
        block(
            b,
            back,
            front,
            hw if k > boat_deck else beam / 2,
            z,
            z + DECK,
            color,
            front_round=p["front_round"],
            windows=windows,
            pitch=pitch,
            sill=0.25 if p["balconies"] else 0.4,
            head=0.75,
        )
    zb = z0 + n * DECK
    block(
        b,
        fwd - p["front_step"] * (n - n // 3) - 14,
        fwd - p["front_step"] * (n - n // 3) + 1,
        hw + 1.5,
        zb - DECK,
        zb,
        color,
        front_round=0.2,
        windows="front_sides",
        sill=0.3,
        head=0.85,
    )
    b.add(
        box((4, 2 * hw + 4, 0.6), (fwd - p["front_step"] * (n - n // 3) - 2, 0, zb - 0.3)),
        color,
        "superstructure",
    )
    span = p["lifeboat_span"] * length
    zl = z0 + (boat_deck + 0.45) * DECK
    count = max(3, int(span / 14))
    xs = np.linspace(-span / 2, span / 2, count)
    for side in (1, -1):
        lifeboats(b, xs, side * (0.8 * hw + 1.6), zl, 11.0, p["lifeboat_color"], roof=WHITE)
    xf = x_stern + p["funnel_pos"] * length
    fl = 0.06 * length
    for k in range(p["funnels"]):
        y = 0.0 if p["funnels"] == 1 else (k - 0.5) * 0.35 * beam
        funnel(
            b,
            xf,
            zb,
            p["funnel_height"],
            fl,
            (0.3 if p["funnels"] == 1 else 0.15) * beam,
            p["funnel_color"],
            p["funnel_top_color"],
            rake=p["funnel_rake"] * p["funnel_height"],
            y=y,
            round_ends=p["funnel_round"],
        )
    b.add(
        span_box(xf + fl, fwd - 0.1 * length, -0.3 * beam, 0.3 * beam, zb, zb + 1.2), color, "superstructure"
    )
    for k in range(p["domes"]):
        radar_dome(b, fwd - 0.12 * length - 10 * k, 0.0, zb + 1.2, 2.2, WHITE)
    mast(b, fwd - p["front_step"] * (n - n // 3) - 8, zb, 9.0, color, 0.3, yards=((0.7, 3.0),), radar=4.0)
    return b.mesh()


register_ship(ShipBuilder(name="cruise", variants=VARIANTS, sample=sample, build=build))
