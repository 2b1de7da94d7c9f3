"""Small powered craft, 5-40 m: open speedboats and RIBs with a console, cabin cruisers, pilot and work
boats, and motor yachts with a flybridge. Planing V hulls, dark glass, a windscreen and people aboard."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import hull_spec, paint_from
from feint.assets.ships.geometry import ShapeBuilder, box, prism, span_box, tube
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import DARK_METAL, RUBBER, STEEL, WHITE, WINDOW, paint
from feint.assets.ships.parts import block, mast, person, radar_dome, railing

VARIANTS = ("speedboat", "rib", "cabin_cruiser", "motor_yacht", "pilot_boat")
LENGTHS = {
    "speedboat": (5.0, 11.0),
    "rib": (5.0, 12.0),
    "cabin_cruiser": (8.0, 16.0),
    "motor_yacht": (15.0, 40.0),
    "pilot_boat": (12.0, 20.0),
}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, *LENGTHS[variant])
    small = variant in ("speedboat", "rib")
    hull_color = paint(rng, "rib_tube" if variant == "rib" else "yacht_hull", 0.04)
    if variant == "pilot_boat":
        hull_color = paint(rng, "tug_hull")
    return {
        "variant": variant,
        "length": length,
        "beam": length / S.uniform(rng, 2.6, 3.6),
        "draft": S.uniform(rng, 0.045, 0.07) * length,
        "freeboard": S.uniform(rng, 0.07, 0.11) * length * (0.8 if small else 1.0),
        "bow": "raked",
        "stern": "transom",
        "bow_rake": S.uniform(rng, 0.8, 2.0),
        "stern_rake": S.uniform(rng, -0.1, 0.2),
        "sheer_bow": S.uniform(rng, 0.02, 0.06) * length,
        "sheer_stern": 0.0,
        "entry": S.uniform(rng, 0.35, 0.5),
        "run": S.uniform(rng, 0.05, 0.12),
        "bow_fullness": S.uniform(rng, 1.5, 2.2),
        "waterline_fullness": S.uniform(rng, 1.0, 1.3),
        "stern_fullness": 2.0,
        "section": S.uniform(rng, 1.0, 1.6),
        "transom": S.uniform(rng, 0.8, 0.95),
        "flare": S.uniform(rng, 0.0, 0.15),
        "stern_lift": S.uniform(rng, 0.1, 0.4),
        "hull_color": hull_color,
        "bottom_color": paint(rng, "antifouling") if S.chance(rng, 0.5) else hull_color,
        "deck_color": paint(rng, "wood") if S.chance(rng, 0.4) else WHITE,
        "boot_top": S.uniform(rng, 0.0, 0.3),
        "stripe": S.chance(rng, 0.5),
        "stripe_color": paint(rng, "stripe"),
        "stripe_height": S.uniform(rng, 0.3, 0.7),
        "superstructure_color": paint(
            rng, "tug_upper" if variant == "pilot_boat" else "superstructure", 0.03
        ),
        "cabin_pos": S.uniform(rng, 0.35, 0.6),
        "cabin_length": S.uniform(rng, 0.25, 0.45),
        "cabin_height": S.uniform(rng, 1.6, 2.3),
        "windscreen_rake": S.uniform(rng, 0.6, 1.6),
        "decks": S.integer(rng, 1, 3) if variant == "motor_yacht" else 1,
        "flybridge": variant in ("motor_yacht", "cabin_cruiser") and S.chance(rng, 0.5),
        "hardtop": S.chance(rng, 0.5),
        "tube_color": paint(rng, "rib_tube"),
        "people": S.integer(rng, 0, 4) if small else S.integer(rng, 0, 2),
        "people_x": [S.uniform(rng, 0.0, 1.0) for _ in range(4)],
        "people_y": [S.uniform(rng, -0.3, 0.3) for _ in range(4)],
        "clothes": [paint(rng, "clothes") for _ in range(4)],
        "outboards": S.integer(rng, 1, 2) if small else 0,
    }


def _open_boat(b: ShapeBuilder, hull: Hull, p: dict[str, Any]) -> None:
    """Centre console with a small windscreen, outboards, and inflatable tubes on a RIB."""
    length, beam = p["length"], p["beam"]
    x_stern, x_bow = hull.deck_x_range
    z = float(hull.deck_z(0.0))
    xc = x_stern + p["cabin_pos"] * length
    b.add(
        span_box(xc - 0.6, xc + 0.6, -0.3 * beam, 0.3 * beam, z - 0.3, z + 0.9),
        p["superstructure_color"],
        "superstructure",
    )
    b.add(
        prism(
            np.array(
                [
                    [xc + 0.5, -0.3 * beam],
                    [xc + 0.7, -0.3 * beam],
                    [xc + 0.7, 0.3 * beam],
                    [xc + 0.5, 0.3 * beam],
                ]
            ),
            z + 0.9,
            z + 1.4,
            np.array(
                [
                    [xc + 0.2, -0.27 * beam],
                    [xc + 0.3, -0.27 * beam],
                    [xc + 0.3, 0.27 * beam],
                    [xc + 0.2, 0.27 * beam],
                ]
            ),
        ),
        WINDOW,
        "window",
    )
    if p["hardtop"]:
        posts = [(xc - 0.5, -0.3 * beam), (xc - 0.5, 0.3 * beam)]
        for x, y in posts:
            b.add(box((0.08, 0.08, 1.0), (x, y, z + 1.4)), STEEL, "metal")
        b.add(
            span_box(xc - 0.9, xc + 0.6, -0.35 * beam, 0.35 * beam, z + 1.9, z + 2.0), WHITE, "superstructure"
        )
    if p["variant"] == "rib":
        line = hull.side_line(z, x_stern - 0.3, x_bow, 14)
        r = 0.06 * beam + 0.18
        path = np.concatenate([line[::-1] * [1, -1, 1] + [0, -0.1, r * 0.3], line + [0, 0.1, r * 0.3]])
        b.add(tube(path, r, 8), p["tube_color"], "rubber")
    for k in range(p["outboards"]):
        y = 0.0 if p["outboards"] == 1 else (k - 0.5) * 0.35 * beam
        b.add(
            span_box(x_stern - 0.6, x_stern + 0.05, y - 0.22, y + 0.22, z - 0.6, z + 0.5), DARK_METAL, "metal"
        )


def _cabin_boat(b: ShapeBuilder, hull: Hull, p: dict[str, Any]) -> None:
    """Deckhouse decks with a raked windscreen and window bands, optional flybridge, mast and rails."""
    length, color = p["length"], p["superstructure_color"]
    x_stern, x_bow = hull.deck_x_range
    x1 = x_stern + (p["cabin_pos"] + p["cabin_length"]) * length
    x0 = x_stern + p["cabin_pos"] * length - 0.1 * length
    z = float(hull.deck_z(x0)) - 0.05  # the deck rises forward: start from its lower, aft end
    hh = p["cabin_height"]
    for k in range(p["decks"]):
        hw = 0.8 * float(hull.deck_half_beam(x1)) * (1 - 0.08 * k)
        rake = p["windscreen_rake"] * hh
        block(
            b,
            x0 + k * 0.12 * length,
            x1 - k * 0.1 * length,
            hw,
            z + k * hh,
            z + (k + 1) * hh,
            color,
            front_round=0.6,
            back_round=0.1,
            windows="all",
            sill=0.45,
            head=0.82,
            front_rake=rake,
        )
    zt = z + p["decks"] * hh
    top_x1 = x1 - p["decks"] * 0.1 * length
    if p["flybridge"]:
        hw = 0.65 * float(hull.deck_half_beam(x1))
        b.add(
            span_box(x0 + 0.15 * length, top_x1 - p["windscreen_rake"] * hh, -hw, hw, zt, zt + 0.9),
            color,
            "superstructure",
        )
        b.add(
            span_box(x0 + 0.1 * length, x0 + 0.3 * length, -hw, hw, zt + 2.0, zt + 2.15),
            color,
            "superstructure",
        )
        railing(
            b,
            hull.side_line(zt + 0.9, x0 + 0.15 * length, top_x1 - 2, 5) * [1, 0.7, 0] + [0, 0, zt + 0.9],
            0.8,
            STEEL,
            1.5,
        )
        zt += 0.9
    mast(b, x0 + 0.25 * length, zt, 1.5 + 0.05 * length, color, 0.06, yards=((0.6, 0.5),), rake=0.3)
    radar_dome(b, x0 + 0.15 * length, 0.0, zt, 0.35, WHITE)
    xr0, xr1 = x1 + 0.5, x_bow - 0.3
    if xr1 > xr0 + 1:
        line = hull.side_line(float(hull.deck_z(xr0)), xr0, xr1, 6)
        line[:, 2] = hull.deck_z(line[:, 0])
        for side in (1, -1):
            railing(b, line * [1, side * 0.95, 1], 0.8, STEEL, 1.5)
    if p["variant"] == "pilot_boat":
        b.add(
            tube(hull.side_line(float(hull.deck_z(0.0)) - 0.3, x_stern, x_bow, 12) + [0, 0.1, 0], 0.25, 6),
            RUBBER,
            "rubber",
        )
        b.add(
            tube(
                hull.side_line(float(hull.deck_z(0.0)) - 0.3, x_stern, x_bow, 12) * [1, -1, 1] - [0, 0.1, 0],
                0.25,
                6,
            ),
            RUBBER,
            "rubber",
        )


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p), stations=24)
    bands: tuple[tuple[float, float, list[float]], ...] = ()
    if p["stripe"]:
        z = p["stripe_height"] * p["freeboard"]
        bands = ((z, z + 0.12 * p["freeboard"] + 0.1, p["stripe_color"]),)
    hull.add_to(b, paint_from(p, bands))
    if p["variant"] in ("speedboat", "rib"):
        _open_boat(b, hull, p)
    else:
        _cabin_boat(b, hull, p)
    x_stern, x_bow = hull.deck_x_range
    open_boat = p["variant"] in ("speedboat", "rib")
    x0, x1 = (
        x_stern + 0.1 * p["length"],
        (x_bow - 0.25 * p["length"]) if open_boat else (x_stern + (p["cabin_pos"] - 0.1) * p["length"] - 0.5),
    )
    for k in range(p["people"]):
        x = x0 + p["people_x"][k] * max(x1 - x0, 0.0)
        y = p["people_y"][k] * float(hull.deck_half_beam(x))
        person(b, x, y, float(hull.deck_z(x)) - 0.2, p["clothes"][k])
    return b.mesh()


register_ship(ShipBuilder(name="recreational", variants=VARIANTS, sample=sample, build=build))
