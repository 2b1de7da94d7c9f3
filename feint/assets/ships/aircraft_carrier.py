"""Aircraft carriers: a long flat flight deck overhanging a grey hull (angled, ski-jump or straight
older decks), an island on the starboard side with mast and radars, painted deck markings and parked
aircraft."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships import ShipBuilder, register_ship
from feint.assets.ships import sampling as S
from feint.assets.ships.common import hull_spec, paint_from
from feint.assets.ships.geometry import (
    Shape,
    ShapeBuilder,
    box,
    boxes,
    hull_number,
    patch,
    prism,
    side_panels,
)
from feint.assets.ships.hull import Hull
from feint.assets.ships.palette import DARK_METAL, WHITE, WINDOW, paint, shade, srgb_to_linear
from feint.assets.ships.parts import block, funnel, lattice_mast, mast, radar_dome

VARIANTS = ("angled", "ski_jump", "straight")
LENGTHS = {"angled": (250.0, 330.0), "ski_jump": (180.0, 285.0), "straight": (180.0, 270.0)}
YELLOW = srgb_to_linear("e0b020")


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    length = S.uniform(rng, *LENGTHS[variant])
    grey = paint(rng, "navy_grey", 0.04)
    old = variant == "straight"
    return {
        "variant": variant,
        "length": length,
        "hull_share": S.uniform(rng, 0.9, 0.96),
        "beam": length / S.uniform(rng, 7.5, 9.0),
        "draft": S.uniform(rng, 7.0, 11.5),
        "freeboard": S.uniform(rng, 0.05, 0.068) * length,
        "bow": "clipper" if old else S.choice(rng, ("bulbous", "raked"), (0.6, 0.4)),
        "stern": "transom",
        "bow_rake": S.uniform(rng, 0.5, 1.0),
        "stern_rake": S.uniform(rng, 0.0, 0.3),
        "sheer_bow": S.uniform(rng, 0.0, 2.0),
        "sheer_stern": 0.0,
        "entry": S.uniform(rng, 0.3, 0.4),
        "run": S.uniform(rng, 0.2, 0.3),
        "bow_fullness": S.uniform(rng, 1.8, 2.6),
        "waterline_fullness": S.uniform(rng, 1.1, 1.4),
        "stern_fullness": S.uniform(rng, 1.8, 2.6),
        "section": S.uniform(rng, 3.0, 6.0),
        "transom": S.uniform(rng, 0.6, 0.85),
        "flare": S.uniform(rng, 0.05, 0.2),
        "stern_lift": 0.6,
        "hull_color": grey,
        "bottom_color": paint(rng, "antifouling"),
        "deck_color": shade(grey, 0.9),
        "boot_top": S.uniform(rng, 0.0, 0.8),
        "superstructure_color": shade(grey, S.uniform(rng, 0.95, 1.1)),
        "flight_deck_color": shade(paint(rng, "navy_deck"), S.uniform(rng, 0.6, 1.2)),
        "marking_color": WHITE if S.chance(rng, 0.7) else YELLOW,
        "deck_width": S.uniform(rng, 1.05, 1.3) if old else S.uniform(rng, 1.5, 1.95),
        "angle": S.uniform(rng, 6.0, 10.0),
        "deck_thickness": S.uniform(rng, 1.5, 3.0),
        "ramp_angle": S.uniform(rng, 8.0, 14.0),
        "ramp_length": S.uniform(rng, 0.1, 0.16),
        "islands": 2 if variant == "ski_jump" and S.chance(rng, 0.35) else 1,
        "island_pos": S.uniform(rng, -0.2, 0.0) if variant == "angled" else S.uniform(rng, -0.05, 0.15),
        "island_length": S.uniform(rng, 0.08, 0.13),
        "island_tiers": S.integer(rng, 4, 6),
        "openings": S.integer(rng, 0, 4),
        "island_funnel": variant != "angled",
        "lattice": S.chance(rng, 0.6 if old else 0.3),
        "mast_height": S.uniform(rng, 12.0, 25.0),
        "dome": S.chance(rng, 0.3),
        "aircraft": S.integer(rng, 0, 20),
        "aircraft_seed": S.seed(rng),
        "aircraft_color": shade(grey, 1.15),
        "number": str(S.integer(rng, 1, 99)) if S.chance(rng, 0.6) else "",
    }


def _deck_plan(p: dict[str, Any]) -> np.ndarray:
    """CCW outline of the flight deck: a straight-deck rectangle with a tapered bow, or with the angled
    landing area bulging out to port."""
    half, b = p["length"] / 2, p["beam"]
    w = p["deck_width"] * b / 2
    if p["variant"] == "straight":
        return np.array(
            [
                [-half, -0.85 * w],
                [0.35 * half, -w],
                [0.85 * half, -0.7 * w],
                [half, -0.3 * w],
                [half, 0.3 * w],
                [0.85 * half, 0.7 * w],
                [0.35 * half, w],
                [-half, 0.85 * w],
            ]
        )
    tan = np.tan(np.radians(p["angle"]))
    port_fwd = 0.1 * half
    return np.array(
        [
            [-half, -0.45 * w],
            [0.55 * half, -0.55 * w],
            [half, -0.3 * w],
            [half, 0.2 * w],
            [0.4 * half, 0.45 * w],
            [port_fwd, 0.55 * w],
            [port_fwd - 0.6 * w / tan * 0.4, w],
            [-0.75 * half, w],
            [-half, 0.6 * w],
        ]
    )


def _line(p0: np.ndarray, p1: np.ndarray, width: float, z: float) -> Shape:
    """A painted stripe on the deck from p0 to p1 (xy), facing up."""
    d = (p1 - p0) / np.linalg.norm(p1 - p0)
    n = np.array([-d[1], d[0]]) * width / 2
    corners = np.array([[*(p0 - n), z], [*(p1 - n), z], [*(p1 + n), z], [*(p0 + n), z]])
    return patch(corners, np.zeros(3), 1, 1)


def _aircraft(b: ShapeBuilder, p: dict[str, Any], plan: np.ndarray, z: float) -> None:
    """Parked jets along the starboard edge and the bow: fuselage, wing and fin as boxes."""
    n = p["aircraft"]
    if n == 0:
        return
    rng = np.random.default_rng(p["aircraft_seed"])
    half = p["length"] / 2
    xs = rng.uniform(-0.8 * half, 0.85 * half, n)
    y_edge = (
        np.interp(xs, plan[:2, 0], plan[:2, 1])
        if p["variant"] != "straight"
        else -0.8 * p["deck_width"] * p["beam"] / 2
    )
    ys = y_edge + rng.uniform(8.0, 14.0, n)
    yaw = rng.uniform(-0.6, 0.6, n) + np.pi / 2 * rng.integers(0, 2, n)
    size = rng.uniform(14.0, 19.0, n)
    for x, y, a, s in zip(xs, ys, yaw, size, strict=True):
        parts = boxes(
            np.array([[0, 0, 1.2], [-0.1 * s, 0, 1.0], [-0.42 * s, 0, 2.4]]),
            np.array(
                [[s, 0.12 * s, 0.12 * s], [0.3 * s, 0.55 * s, 0.04 * s], [0.12 * s, 0.03 * s, 0.18 * s]]
            ),
        )
        rot = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1]])
        b.add(parts.rotated(rot).moved((x, y, z)), p["aircraft_color"], "cargo")


def _island(
    b: ShapeBuilder, p: dict[str, Any], x: float, y: float, z: float, length: float, main: bool
) -> None:
    color = p["superstructure_color"]
    w = 0.38 * length
    tiers = p["island_tiers"]
    th = 3.6
    for k in range(tiers):
        x0 = x - length / 2 + (0.1 * k * length if k > 1 else 0.0)
        x1 = x + length / 2 - 0.05 * k * length
        last = k == tiers - 1
        block(
            b,
            x0,
            x1,
            w / 2 * (1 - 0.05 * k),
            z + k * th,
            z + (k + 1) * th,
            color,
            windows="front_sides" if last else None,
            sill=0.3,
            head=0.8,
            y=y,
        )
        if not last:
            hw = w / 2 * (1 - 0.05 * k) + 0.05
            b.add(
                side_panels(
                    np.full(2, x0 + 2),
                    np.full(2, x1 - 2),
                    np.full(2, z + (k + 0.5) * th),
                    np.full(2, z + (k + 0.65) * th),
                    np.array([y - hw, y + hw]),
                ),
                WINDOW,
                "window",
            )
    top = z + tiers * th
    if p["island_funnel"] and main:
        funnel(
            b,
            x - 0.15 * length,
            top,
            7.0,
            0.35 * length,
            0.8 * w,
            color,
            DARK_METAL,
            rake=1.5,
            y=y,
            round_ends=0.3,
        )
    if p["lattice"]:
        lattice_mast(b, x + 0.15 * length, top, p["mast_height"], 0.6 * w, 1.5, color, levels=4, y=y)
    else:
        mast(
            b,
            x + 0.15 * length,
            top,
            p["mast_height"],
            color,
            0.5,
            yards=((0.6, 4.0), (0.85, 2.5)),
            radar=6.0,
            y=y,
        )
    if p["dome"] and main:
        radar_dome(b, x - 0.3 * length, y, top, 2.5, shade(WHITE, 0.85))
    if p["number"] and main:
        b.add(hull_number(p["number"], x, z + 1.0, 5.0, y - w / 2 - 0.1), WHITE, "superstructure")


def build(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    spec = hull_spec({**p, "length": p["length"] * p["hull_share"]})
    hull = Hull(spec)
    hull.add_to(b, paint_from(p))
    length, beam = p["length"], p["beam"]
    zf = p["freeboard"]
    zt = zf + p["deck_thickness"]
    plan = _deck_plan(p)
    slab = prism(plan, zf - 0.5, zt)
    walls, bottom, top = slab.blocks
    b.add(Shape(slab.verts, [walls, bottom]), p["superstructure_color"], "hull")
    b.add(Shape(slab.verts, [top]), p["flight_deck_color"], "deck")
    if p["variant"] == "ski_jump":
        half = length / 2
        # a box whose top face is tilted up to the bow: the ramp
        ramp = box((p["ramp_length"] * length, 0.6 * p["deck_width"] * beam, 1.0), (0, 0, 0.5))
        v = ramp.verts
        rise = np.tan(np.radians(p["ramp_angle"])) * p["ramp_length"] * length
        v[:, 0] += half - p["ramp_length"] * length / 2
        v[:, 1] += 0.1 * beam
        v[:, 2] = np.where(v[:, 2] > 0.5, rise * (v[:, 0] - v[:, 0].min()) / np.ptp(v[:, 0]) + 0.05, 0.0) + zt
        b.add(ramp, p["flight_deck_color"], "deck")
    z_mark = zt + 0.05
    mark = p["marking_color"]
    half = length / 2
    if p["variant"] == "angled":
        a = np.radians(p["angle"])
        start = np.array([-0.95 * half, 0.05 * beam])
        end = start + np.array([np.cos(a), np.sin(a)]) * 0.5 * length
        b.add(_line(start, end, 0.8, z_mark), mark, "deck")
        for side in (-1, 1):
            off = np.array([-np.sin(a), np.cos(a)]) * side * 12.0
            b.add(_line(start + off, end + off, 0.5, z_mark), mark, "deck")
    b.add(_line(np.array([-0.2 * half, 0.0]), np.array([0.95 * half, 0.0]), 0.6, z_mark), mark, "deck")
    edge = plan[0, 1] + 2.0
    b.add(_line(np.array([-0.95 * half, edge]), np.array([0.5 * half, edge]), 0.5, z_mark), mark, "deck")
    for x in np.linspace(-0.3, 0.15, p["openings"]) * length:
        b.add(hull.band(zf - 7.5, zf - 1.5, x - 8.0, x + 8.0, 0.1, 2), shade(DARK_METAL, 0.5), "window")
    for k in range(p["islands"]):
        xi = p["island_pos"] * length - k * 0.22 * length
        island_length = p["island_length"] * length * (1.0 if k == 0 else 0.8)
        y_island = float(np.interp(xi, plan[:2, 0], plan[:2, 1])) + 0.2 * island_length + 1.0
        _island(b, p, xi, y_island, zt, island_length, k == 0)
    _aircraft(b, p, plan, zt)
    return b.mesh()


register_ship(ShipBuilder(name="aircraft_carrier", variants=VARIANTS, sample=sample, build=build))
