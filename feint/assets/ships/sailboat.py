"""Sailing craft: sloops, ketches, racing yachts and square-rigged tall ships, sails set (bellied,
double-sided, swung to leeward, with an optional spinnaker) or furled, and the whole boat heeled."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh, rotation_matrix
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import hull_spec, paint_from
from feint.assets.ships.geometry import (
    ShapeBuilder,
    beam,
    beams,
    double_sided,
    patch,
    prism,
)
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import DARK_METAL, STEEL, WHITE, paint, shade, srgb_to_linear
from feint.assets.ships.parts import block, person

VARIANTS = ("sloop", "ketch", "racing", "tall_ship")
LENGTHS = {"sloop": (6.0, 22.0), "ketch": (12.0, 30.0), "racing": (9.0, 30.0), "tall_ship": (32.0, 60.0)}
TAN = srgb_to_linear("d9b58a")


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, *LENGTHS[variant])
    tall = variant == "tall_ship"
    classic = tall or (variant == "ketch" and S.chance(rng, 0.5))
    sails_up = S.chance(rng, 0.75)
    if variant == "racing":
        sail = paint(rng, "racing_sail")
    elif classic and S.chance(rng, 0.3):
        sail = TAN
    else:
        sail = paint(rng, "spinnaker") if S.chance(rng, 0.1) else paint(rng, "sail", 0.02)
    return {
        "variant": variant,
        "length": length,
        "beam": length / (S.uniform(rng, 4.0, 5.5) if tall else S.uniform(rng, 2.9, 3.8)),
        "draft": S.uniform(rng, 0.05, 0.08) * length,
        "freeboard": S.uniform(rng, 0.06, 0.1) * length,
        "keel_depth": S.uniform(rng, 0.12, 0.2) * length if not tall else 0.0,
        "bow": "clipper" if classic else "raked",
        "stern": "cruiser" if classic and S.chance(rng, 0.6) else "transom",
        "bow_rake": S.uniform(rng, 0.8, 1.6) if classic else S.uniform(rng, 0.1, 0.8),
        "stern_rake": S.uniform(rng, 0.6, 1.2) if classic else S.uniform(rng, -0.2, 0.3),
        "sheer_bow": S.uniform(rng, 0.01, 0.04) * length,
        "sheer_stern": S.uniform(rng, 0.0, 0.02) * length,
        "entry": S.uniform(rng, 0.35, 0.5),
        "run": S.uniform(rng, 0.2, 0.4),
        "bow_fullness": S.uniform(rng, 1.3, 1.8),
        "waterline_fullness": S.uniform(rng, 1.0, 1.3),
        "stern_fullness": S.uniform(rng, 1.5, 2.2),
        "section": S.uniform(rng, 1.8, 2.6),
        "transom": S.uniform(rng, 0.5, 0.9),
        "flare": S.uniform(rng, 0.0, 0.1),
        "stern_lift": S.uniform(rng, 0.6, 0.9),
        "hull_color": paint(rng, "yacht_hull", 0.04),
        "bottom_color": paint(rng, "antifouling"),
        "deck_color": paint(rng, "wood") if classic or S.chance(rng, 0.3) else WHITE,
        "boot_top": S.uniform(rng, 0.0, 0.2),
        "stripe": S.chance(rng, 0.5),
        "stripe_color": paint(rng, "stripe"),
        "masts": (S.integer(rng, 2, 4) if tall else 2 if variant == "ketch" else 1),
        "mast_height": (S.uniform(rng, 0.55, 0.8) if tall else S.uniform(rng, 1.1, 1.45)) * length,
        "mast_pos": S.uniform(rng, 0.33, 0.45),
        "mast_color": shade(WHITE, 0.8) if S.chance(rng, 0.5) else DARK_METAL,
        "gaff": classic and not tall and S.chance(rng, 0.6),
        "square_sails": S.integer(rng, 3, 5),
        "sails_up": sails_up,
        "sail_color": sail,
        "jib": S.uniform(rng, 0.6, 1.0),
        "spinnaker": sails_up and not tall and S.chance(rng, 0.2),
        "spinnaker_color": paint(rng, "spinnaker"),
        "trim": S.uniform(rng, 0.1, 0.9),
        "belly": S.uniform(rng, 0.06, 0.14),
        "heel": S.uniform(rng, 0.0, 10.0 if tall else 30.0) if sails_up else S.uniform(rng, 0.0, 3.0),
        "tack": 1 if S.chance(rng, 0.5) else -1,
        "cover_color": paint(rng, "stripe"),
        "cabin": variant != "racing",
        "people": S.integer(rng, 0, 4),
        "clothes": paint(rng, "clothes"),
    }


def _sail(b: ShapeBuilder, corners: list[np.ndarray], belly: np.ndarray, color: list[float]) -> None:
    b.add(double_sided(patch(np.asarray(corners), belly, 4, 4)), color, "sail")


def _fore_and_aft(
    b: ShapeBuilder,
    p: dict[str, Any],
    x: float,
    z0: float,
    height: float,
    boom: float,
    lee: float,
    jib_tack: np.ndarray | None,
) -> None:
    """Mast with boom and either a bellied mainsail (plus jib) or a furled sail under a cover."""
    swing = (0.15 + 0.9 * p["trim"]) * lee if p["sails_up"] else 0.0
    boom_z = z0 + 0.08 * height
    boom_end = np.array([x - boom * np.cos(swing), boom * np.sin(swing), boom_z])
    b.add(beam((x, 0, boom_z), boom_end, 0.006 * height + 0.03, 4), p["mast_color"], "metal")
    head = np.array([x, 0.0, z0 + 0.96 * height])
    tack = np.array([x, 0.0, boom_z])
    if not p["sails_up"]:
        b.add(
            beam(tack + [-0.2, 0, 0.15], boom_end + [0.3, 0, 0.15], 0.012 * height + 0.08, 6),
            p["cover_color"],
            "sail",
        )
        return
    normal = np.array([np.sin(swing), np.cos(swing), 0.0]) * lee
    throat, peak = head, head
    if p["gaff"]:
        throat = np.array([x, 0.0, z0 + 0.72 * height])
        peak = throat + [-0.6 * boom * np.cos(swing), 0.6 * boom * np.sin(swing), 0.22 * height]
        b.add(beam(throat, peak, 0.004 * height + 0.03, 4), p["mast_color"], "metal")
    _sail(b, [tack, boom_end, peak, throat], normal * p["belly"] * boom, p["sail_color"])
    if jib_tack is not None:
        jib_head = np.array([x, 0.0, z0 + p["jib"] * 0.9 * height])
        spread = 0.1 + 0.25 * p["trim"]
        clew = np.array([x - 0.05 * p["length"] * (1 + p["jib"]), lee * spread * p["beam"] * 1.2, z0 + 0.6])
        _sail(
            b,
            [jib_tack, clew, jib_head, jib_head],
            np.array([0, lee, 0]) * p["belly"] * (x - jib_tack[0] + 2),
            p["sail_color"],
        )


def _square_rig(b: ShapeBuilder, p: dict[str, Any], x: float, z0: float, height: float, lee: float) -> None:
    """Yards stacked up a mast, each carrying a bellied square sail (or its furled bundle)."""
    n = p["square_sails"]
    brace = (0.15 + 0.5 * p["trim"]) * lee
    rot = rotation_matrix(yaw=brace)
    span0 = 0.42 * p["beam"] * 2.2
    levels = np.linspace(z0 + 0.3 * height, z0 + 0.95 * height, n + 1)
    for k in range(n):
        s_lo, s_hi = span0 * (1 - 0.12 * k), span0 * (1 - 0.12 * (k + 1))
        zl, zh = levels[k], levels[k + 1] - 0.3
        yard = np.array([[0, -s_hi, zh], [0, s_hi, zh]]) @ rot.T + [x, 0, 0]
        b.add(beams(yard[:1], yard[1:], 0.12), DARK_METAL, "metal")
        if p["sails_up"]:
            lo = np.array([[0, -s_lo, zl], [0, s_lo, zl]]) @ rot.T + [x, 0, 0]
            _sail(
                b,
                [lo[0], lo[1], yard[1], yard[0]],
                rot @ np.array([0.12 * (zh - zl) + 0.5, 0, 0]),
                p["sail_color"],
            )
        else:
            b.add(beam(yard[0] + [0, 0, 0.3], yard[1] + [0, 0, 0.3], 0.3, 6), p["sail_color"], "sail")


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p), stations=26)
    bands: tuple[tuple[float, float, list[float]], ...] = ()
    if p["stripe"]:
        z = 0.55 * p["freeboard"]
        bands = ((z, z + 0.15 * p["freeboard"], p["stripe_color"]),)
    hull.add_to(b, paint_from(p, bands))
    length, width = p["length"], p["beam"]
    x_stern, x_bow = hull.deck_x_range
    lee = -float(p["tack"])
    if p["keel_depth"]:
        chord = 0.14 * length
        keel = np.array(
            [
                [-0.5 * chord, 0],
                [0.5 * chord, 0],
                [0.2 * chord, -p["keel_depth"]],
                [-0.45 * chord, -p["keel_depth"]],
            ]
        )
        fin = prism(keel, -0.04 * width, 0.04 * width).rotated(rotation_matrix(roll=np.pi / 2))
        b.add(fin, p["bottom_color"], "hull")
    z_deck = float(hull.deck_z(0.0))
    if p["cabin"]:
        xc = x_bow - (p["mast_pos"] + 0.05) * length
        block(
            b,
            xc - 0.3 * length,
            xc + 0.08 * length,
            0.55 * float(hull.deck_half_beam(xc)),
            z_deck - 0.1,
            z_deck + 0.045 * length,
            WHITE,
            front_round=0.5,
            windows="sides",
            sill=0.45,
            head=0.8,
        )
    spacing = 0.8 * length / max(p["masts"], 1)
    x_main = x_bow - p["mast_pos"] * length
    mast_x = (
        [x_bow - 0.22 * length - k * spacing * 0.85 for k in range(p["masts"])]
        if p["variant"] == "tall_ship"
        else [x_main] + ([x_stern + 0.16 * length] if p["masts"] == 2 else [])
    )
    for k, x in enumerate(mast_x):
        h = p["mast_height"] * (1.0 if k == 0 or p["variant"] == "tall_ship" else 0.65)
        if p["variant"] == "tall_ship":
            h *= 1.0 - 0.08 * abs(k - 1)
        z0 = float(hull.deck_z(x))
        b.add(
            beam((x, 0, z0 - 0.5), (x, 0, z0 + h), 0.004 * h + 0.05 + 0.004 * length, 6),
            p["mast_color"],
            "metal",
        )
        if p["variant"] == "tall_ship" and k < p["masts"] - 1:
            _square_rig(b, p, x, z0, h, lee)
        else:
            boom = min(0.4 * length, (x - x_stern) * 0.9)
            jib = np.array([x_bow, 0.0, float(hull.deck_z(x_bow))]) if k == 0 else None
            _fore_and_aft(b, p, x, z0, h, boom, lee, jib)
    x0 = mast_x[0]
    h0 = p["mast_height"]
    z0 = float(hull.deck_z(x0))
    bow_top = np.array([x_bow, 0.0, float(hull.deck_z(x_bow))])
    stays_from = [bow_top, np.array([x_stern + 0.3, 0, float(hull.deck_z(x_stern))])]
    stays_to = [np.array([x0, 0, z0 + 0.9 * h0]), np.array([x0, 0, z0 + h0])]
    hb = float(hull.deck_half_beam(x0))
    for side in (1, -1):
        stays_from.append(np.array([x0 - 0.03 * length, side * 0.95 * hb, z0]))
        stays_to.append(np.array([x0, 0, z0 + 0.85 * h0]))
    b.add(beams(np.array(stays_from), np.array(stays_to), 0.015 + 0.0008 * length, 3), STEEL, "metal")
    if p["variant"] == "tall_ship":
        sprit = bow_top + [0.12 * length, 0, 0.03 * length]
        b.add(beam(bow_top, sprit, 0.2, 6), DARK_METAL, "metal")
        for k in range(3 if p["sails_up"] else 0):
            tack = bow_top + (sprit - bow_top) * (0.4 + 0.3 * k)
            head = np.array([x0, 0, z0 + (0.55 + 0.12 * k) * h0])
            foot = np.array([x0 + 0.1 * length, lee * 0.15 * width, z0 + 1.5])
            _sail(b, [tack, foot, head, head], np.array([0, lee * 0.08 * length, 0]), p["sail_color"])
    if p["spinnaker"]:
        head = np.array([x0, 0, z0 + 0.95 * h0])
        tack = bow_top + [0.15 * length, -lee * 0.4 * width, 0.5]
        clew = np.array([x0 + 0.05 * length, lee * 0.8 * width, z0 + 0.15 * h0])
        _sail(b, [tack, clew, head, head], np.array([0.25 * h0, 0.05 * lee * h0, 0.0]), p["spinnaker_color"])
    for k in range(p["people"]):
        x = x_stern + (0.08 + 0.07 * k) * length
        y = -lee * 0.6 * float(hull.deck_half_beam(x))
        person(b, x, y, float(hull.deck_z(x)), p["clothes"], 1.7 if p["sails_up"] else 1.75)
    heel = np.radians(p["heel"]) * -lee
    return b.mesh().transformed(rotation_matrix(roll=heel))


register_ship(ShipBuilder(name="sailboat", variants=VARIANTS, sample=sample, build=build))
