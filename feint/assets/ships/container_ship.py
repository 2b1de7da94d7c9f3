"""Container ships: a long flared hull carrying bays of colourful container stacks, with the accommodation
aft, at about three quarters aft, or (on the biggest ships) forward of a separate funnel casing."""

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
from feint.assets.ships.containers import CONTAINER_COLORS, ROW, TIER, add_stacks, container_colors
from feint.assets.ships.geometry import ShapeBuilder, prism, span_box
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import DARK_METAL, paint, shade
from feint.assets.ships.parts import block, crane, funnel, mast

VARIANTS = ("aft_bridge", "split_bridge", "geared_feeder")
LENGTHS = {"aft_bridge": (170.0, 340.0), "split_bridge": (300.0, 400.0), "geared_feeder": (150.0, 200.0)}
BAY = 12.2  # a 40 ft container
BAY_GAP = 1.3  # lashing bridge between bays


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, *LENGTHS[variant])
    p: dict[str, Any] = {
        "variant": variant,
        **merchant_hull_params(
            rng,
            length,
            beam_ratio=(6.4, 8.6),
            depth_ratio=(12.0, 14.5),
            bows=("bulbous", "raked"),
            bow_weights=(0.9, 0.1),
        ),
    }
    p.update(accommodation_params(rng, decks=(5, 9)))
    p["accommodation_width"] = S.uniform(rng, 0.45, 0.8)
    p["waterline_fullness"] = S.uniform(rng, 1.1, 1.5)
    p["bow_fullness"] = S.uniform(rng, 2.0, 3.0)
    if variant == "split_bridge":
        p["bridge_position"] = S.uniform(rng, 0.6, 0.7)
    else:
        p["bridge_position"] = S.uniform(rng, 0.05, 0.08) if S.chance(rng, 0.5) else S.uniform(rng, 0.15, 0.3)
    p["max_tiers"] = S.integer(rng, 4, 6) if variant == "geared_feeder" else S.integer(rng, 6, 10)
    p["load"] = S.uniform(rng, 0.5, 1.0)
    p["container_seed"] = S.seed(rng)
    p["line_color"] = S.integer(rng, 0, len(CONTAINER_COLORS) - 1)
    p["line_share"] = S.uniform(rng, 0.0, 0.7)
    p["hatch_color"] = paint(rng, "hatch")
    p["cranes"] = S.integer(rng, 2, 4) if variant == "geared_feeder" else 0
    p["crane_color"] = paint(rng, "funnel")
    p["gantry"] = variant == "geared_feeder" and S.chance(rng, 0.3)
    return p


def _bays(x0: float, x1: float) -> list[tuple[float, float]]:
    count = int((x1 - x0 + BAY_GAP) // (BAY + BAY_GAP))
    start = x1 - count * (BAY + BAY_GAP) + BAY_GAP
    return [(start + k * (BAY + BAY_GAP), start + k * (BAY + BAY_GAP) + BAY) for k in range(count)]


def _heights(
    p: dict[str, Any], rows: int, bay_x: np.ndarray, half_beam: np.ndarray, x_bow: float
) -> np.ndarray:
    """Tiers per (bay, row): a load level per bay, lower outer rows, the forward bays kept low for the
    bridge's line of sight, some empty bays on a partly loaded ship, and no rows outside the hull
    where it narrows towards the ends."""
    rng = np.random.default_rng(p["container_seed"] + 1)
    n_bays = len(bay_x)
    top = p["max_tiers"]
    load = p["load"]
    bay_level = np.clip(np.round(top * np.clip(load + rng.normal(0, 0.15, n_bays), 0, 1)), 0, top)
    bay_level[rng.random(n_bays) < 0.3 * (1 - load)] = 0
    sight = np.clip((x_bow - bay_x) / (0.15 * p["length"]), 0.6, 1.0)
    bay_level = np.minimum(bay_level, np.ceil(top * sight))
    edge = np.abs(np.arange(rows) - (rows - 1) / 2) / max((rows - 1) / 2, 1)
    shave = np.round(rng.uniform(0, 2.5) * edge**4)
    h = bay_level[:, None] - shave[None] - (rng.random((n_bays, rows)) < 0.15)
    outer = (np.abs(np.arange(rows) - (rows - 1) / 2) + 0.5) * ROW
    h[outer[None, :] > half_beam[:, None] - 0.3] = 0
    return np.clip(h, 0, top).astype(int)


def _gantry(b: ShapeBuilder, x: float, beam: float, z: float, height: float, color: list[float]) -> None:
    """A travelling gantry crane straddling the stacks: two legs on the deck edges, a bridge girder
    overhanging one side and a trolley."""
    half = 0.5 * beam
    for y in (-half + 0.6, half - 0.6):
        b.add(span_box(x - 1.5, x + 1.5, y - 0.6, y + 0.6, z, z + height), color, "metal")
    b.add(span_box(x - 1.6, x + 1.6, -half - 6.0, half + 0.6, z + height, z + height + 2.0), color, "metal")
    b.add(
        span_box(x - 2.2, x + 2.2, -half - 4.0, -half, z + height - 2.5, z + height),
        shade(color, 0.6),
        "metal",
    )


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    hull = Hull(hull_spec(p))
    hull.add_to(b, paint_from(p))
    length, beam = p["length"], p["beam"]
    x_stern, x_bow = hull.deck_x_range
    z_deck = p["freeboard"]
    fc = x_bow - 0.1 * length
    b.add(
        prism(hull.deck_polygon(fc, x_bow), z_deck - 0.2, float(hull.deck_z(fc)) + 2.5),
        p["hull_color"],
        "hull",
    )
    b.add(
        span_box(fc - 1.0, fc, -0.45 * beam, 0.45 * beam, z_deck, z_deck + 6.0),
        p["superstructure_color"],
        "superstructure",
    )
    rows = max(3, int(0.92 * beam / ROW))
    stack_top = p["max_tiers"] * TIER + 1.6
    x_acc = x_stern + p["bridge_position"] * length
    acc_len = p["accommodation_length"] * length
    front = accommodation(
        b, hull, p, x_acc, clear_height=stack_top + 2.0, with_funnel=p["variant"] != "split_bridge"
    )
    spans = [(x_stern + 0.04 * length, x_acc - 1.5), (front + 1.5, fc - 2.0)]
    if p["variant"] == "split_bridge":
        xf = x_stern + 0.2 * length
        casing = (xf - 0.6 * acc_len, xf + 0.6 * acc_len)
        block(b, casing[0], casing[1], 0.35 * beam, z_deck, z_deck + stack_top + 3, p["superstructure_color"])
        funnel(
            b,
            xf,
            z_deck + stack_top + 3,
            0.4 * stack_top,
            0.9 * acc_len,
            0.3 * beam,
            p["funnel_color"],
            p["funnel_top_color"],
            rake=p["funnel_rake"] * 8,
            round_ends=p["funnel_round"],
        )
        spans = [(spans[0][0], casing[0] - 1.5), (casing[1] + 1.5, x_acc - 1.5), spans[1]]
    cranes = [
        spans[-1][0] + (k + 0.5) * (spans[-1][1] - spans[-1][0]) / p["cranes"] for k in range(p["cranes"])
    ]
    for xc in cranes:
        spans = [piece for x0, x1 in spans for piece in ((x0, min(x1, xc - 3.0)), (max(x0, xc + 3.0), x1))]
    bays = np.array([bay for x0, x1 in spans for bay in _bays(x0, x1)]).reshape(-1, 2)
    n = len(bays)
    if n:
        z_hatch = hull.deck_z(bays.mean(axis=1)) + 1.6
        hw = rows * ROW / 2
        for (x0, x1), z in zip(bays, z_hatch, strict=True):
            b.add(span_box(x0, x1, -hw, hw, z - 2.2, z), p["hatch_color"], "deck")
        heights = _heights(
            p,
            rows,
            bays.mean(axis=1),
            np.minimum(hull.deck_half_beam(bays[:, 0]), hull.deck_half_beam(bays[:, 1])),
            x_bow,
        )
        colors = container_colors(
            p["container_seed"], (n, rows, p["max_tiers"]), p["line_color"], p["line_share"]
        )
        add_stacks(b, bays, z_hatch, heights, colors, shade(DARK_METAL, 0.6))
    for xc in cranes:
        if p["gantry"]:
            _gantry(b, xc, beam, z_deck, stack_top + 3.0, p["crane_color"])
        else:
            crane(b, xc, 0.0, z_deck, stack_top + 2, 0.8 * beam, np.pi / 2 + 0.3, 0.2, p["crane_color"])
    mast(b, x_bow - 0.04 * length, float(hull.deck_z(x_bow)) + 2.5, 10.0, p["superstructure_color"], 0.25)
    return b.mesh()


register_ship(ShipBuilder(name="container_ship", variants=VARIANTS, sample=sample, build=build))
