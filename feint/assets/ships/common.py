"""What merchant ships share: hull proportions and paint drawn the same way, and the accommodation block
(decks of cabins, bridge with wings, funnel, mast) that sits aft on bulkers, container ships and tankers.

Class modules keep the parameters as flat keys in their dict; these helpers read and write the same
keys so a logged sample reads the same across classes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.ships import sampling as S
from feint.assets.ships.geometry import ShapeBuilder, box
from feint.assets.ships.hull import Hull, HullPaint, HullSpec
from feint.assets.ships.palette import paint
from feint.assets.ships.parts import block, funnel, mast

HULL_KEYS = (
    "length",
    "beam",
    "draft",
    "freeboard",
    "bow",
    "stern",
    "bow_rake",
    "stern_rake",
    "sheer_bow",
    "sheer_stern",
    "entry",
    "run",
    "bow_fullness",
    "waterline_fullness",
    "stern_fullness",
    "section",
    "transom",
    "flare",
    "stern_lift",
    "bulb",
    "deck_drop",
)


def merchant_hull_params(
    rng: np.random.Generator,
    length: float,
    beam_ratio: tuple[float, float],
    depth_ratio: tuple[float, float],
    bows: tuple[str, ...] = ("bulbous", "raked", "straight"),
    bow_weights: tuple[float, ...] = (0.75, 0.15, 0.1),
) -> dict[str, Any]:
    """Hull shape and paint of a cargo ship of `length` m; load state sets draft and visible antifouling."""
    beam = length / S.uniform(rng, *beam_ratio)
    depth = length / S.uniform(rng, *depth_ratio)
    load = S.uniform(rng, 0.0, 1.0)
    design_draft = 0.72 * depth
    draft = design_draft * (0.55 + 0.45 * load)
    return {
        "length": length,
        "beam": beam,
        "draft": draft,
        "freeboard": depth - draft,
        "bow": S.choice(rng, bows, bow_weights),
        "stern": "transom",
        "bow_rake": S.uniform(rng, 0.15, 0.5),
        "stern_rake": S.uniform(rng, 0.0, 0.15),
        "sheer_bow": S.uniform(rng, 0.0, 0.04) * depth,
        "sheer_stern": S.uniform(rng, 0.0, 0.02) * depth,
        "entry": S.uniform(rng, 0.14, 0.24),
        "run": S.uniform(rng, 0.15, 0.25),
        "bow_fullness": S.uniform(rng, 1.6, 2.4),
        "waterline_fullness": S.uniform(rng, 1.3, 1.9),
        "stern_fullness": S.uniform(rng, 1.5, 2.5),
        "section": S.uniform(rng, 6.0, 12.0),
        "transom": S.uniform(rng, 0.55, 0.8),
        "flare": S.uniform(rng, 0.0, 0.04),
        "stern_lift": S.uniform(rng, 0.6, 0.85),
        "bulb": S.uniform(rng, 0.8, 1.2),
        "boot_top": (design_draft - draft) + S.uniform(rng, 0.0, 0.6),
        "hull_color": paint(rng, "merchant_hull"),
        "bottom_color": paint(rng, "antifouling"),
        "deck_color": paint(rng, "deck_steel"),
        "superstructure_color": paint(rng, "superstructure", 0.03),
        "funnel_color": paint(rng, "funnel"),
        "funnel_top_color": paint(rng, "boot_top"),
    }


def hull_spec(p: dict[str, Any]) -> HullSpec:
    return HullSpec(**{k: p[k] for k in HULL_KEYS if k in p})


def paint_from(p: dict[str, Any], bands: tuple[tuple[float, float, list[float]], ...] = ()) -> HullPaint:
    return HullPaint(
        topside=p["hull_color"],
        bottom=p["bottom_color"],
        deck=p["deck_color"],
        boot_top=p["boot_top"],
        bands=bands,
    )


def accommodation_params(rng: np.random.Generator, decks: tuple[int, int] = (4, 7)) -> dict[str, Any]:
    """Accommodation block: decks, length/width shares, bridge-wing overhang, how the front and aft walls
    step back going up, funnel shape and rake."""
    return {
        "accommodation_decks": S.integer(rng, *decks),
        "accommodation_length": S.uniform(rng, 0.06, 0.1),
        "accommodation_width": S.uniform(rng, 0.6, 0.95),
        "deck_height": S.uniform(rng, 2.6, 3.0),
        "bridge_wings": S.uniform(rng, 0.0, 1.5),
        "funnel_height": S.uniform(rng, 0.6, 1.4),
        "funnel_rake": S.uniform(rng, 0.0, 0.35),
        "funnel_round": S.uniform(rng, 0.0, 1.0),
        "stepped_front": S.uniform(rng, 0.0, 1.5),
        "aft_step": S.uniform(rng, 0.0, 0.8),
    }


def accommodation(
    b: ShapeBuilder,
    hull: Hull,
    p: dict[str, Any],
    x_aft: float,
    clear_height: float = 0.0,
    with_funnel: bool = True,
) -> float:
    """Build the accommodation block starting at `x_aft`, its bridge at least `clear_height` above the deck
    (to see over deck cargo); returns the x of its front wall."""
    length, beam = p["length"], p["beam"]
    x_front = x_aft + p["accommodation_length"] * length
    z = float(hull.deck_z(x_front))
    hw = p["accommodation_width"] * float(hull.deck_half_beam(x_front))
    dh = p["deck_height"]
    color = p["superstructure_color"]
    decks = max(p["accommodation_decks"], int(np.ceil(clear_height / dh)))
    for k in range(decks):
        setback = p["stepped_front"] * max(0, k - decks + 3)
        block(
            b,
            x_aft + k * p["aft_step"],
            x_front - setback,
            hw,
            z + k * dh,
            z + (k + 1) * dh,
            color,
            windows="all",
            pitch=2.4,
            sill=0.35,
            head=0.7,
        )
    zb = z + decks * dh
    bridge_hw = float(hull.deck_half_beam(x_front)) + p["bridge_wings"]
    bridge_len = min(0.55 * (x_front - x_aft), 12.0)
    block(
        b,
        x_front - bridge_len,
        x_front - p["stepped_front"] * 2,
        hw,
        zb,
        zb + dh,
        color,
        windows="front_sides",
        sill=0.3,
        head=0.85,
    )
    b.add(
        box((3.0, 2 * bridge_hw, 0.5), (x_front - p["stepped_front"] * 2 - 1.5, 0.0, zb + dh - 0.25)),
        color,
        "superstructure",
    )
    if with_funnel:
        fl = 0.35 * (x_front - x_aft)
        fh = p["funnel_height"] * dh * 3
        funnel(
            b,
            x_aft + 0.3 * fl + 2,
            zb,
            fh,
            fl,
            0.3 * beam,
            p["funnel_color"],
            p["funnel_top_color"],
            rake=p["funnel_rake"] * fh,
            round_ends=p["funnel_round"],
        )
    mast(
        b,
        x_front - 0.5 * bridge_len,
        zb + dh,
        0.45 * beam,
        color,
        radius=0.2,
        yards=((0.7, 0.12 * beam),),
        radar=0.16 * beam,
    )
    return x_front
