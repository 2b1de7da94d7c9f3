"""Turning a bottle: a radius-vs-height profile revolved about z, then shaped, labelled, capped and filled.

Every class samples the same kind of plain parameter dict and `build_bottle` turns any of them into a
`Mesh`, so the five classes differ only in their numbers and a logged sample rebuilds exactly.
Frame: metres, +z up, the origin at the centre of the base; a label's middle faces +x.

The parameter dict:
    profile        [[z, r], ...] knots from the base (z = 0) to the mouth, z increasing
    section        {kind: round | oval | square, aspect, top, fade}: cross-section of the body up to `top`
                   (oval: `aspect` times narrower across x; square: a superellipse of exponent `aspect`)
    ribs           {count, depth, z0, z1} horizontal grooves (depth 0: none)
    petaloid       {feet, depth, height} lobed feet of carbonated-drink PET (depth 0: none)
    body_part      glass | pet | plastic;  body_color  linear RGB (the tint of glass and PET)
    labels         [{z0, z1, arc, color, accent, accent_z0, accent_z1}], arc: share of the circumference
    cap            {kind: crown | screw | flip | foil, height, radius, color, part}
    liquid_color   linear RGB or None (opaque bottles);  wall: glass/plastic thickness (m)
    fill           liquid level, share of the inside height;  dent, dent_seed: crushed PET/HDPE
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from feint.assets.mesh import Mesh
from feint.assets.ships.geometry import Shape, ShapeBuilder, lathe

SEGMENTS = 30  # around the body: divisible by the 5 feet of a petaloid base
CAP_SEGMENTS = 42  # around a cap: 21 crimps of a crown cap, 21 grip ribs of a screw cap
ROW_STEP = 0.005  # metres between rings: smooth shoulders, ribs and dents


def radius_at(knots: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Profile radius at heights `z`: smoothstep between knots, so the wall is vertical at every knot
    (straight bodies and necks joined by rounded shoulders) and never overshoots."""
    kz, kr = knots[:, 0], knots[:, 1]
    j = np.clip(np.searchsorted(kz, z, side="right") - 1, 0, len(kz) - 2)
    t = np.clip((z - kz[j]) / np.maximum(kz[j + 1] - kz[j], 1e-9), 0.0, 1.0)
    return kr[j] + (kr[j + 1] - kr[j]) * t * t * (3 - 2 * t)


def rings(z0: float, z1: float, extra: Sequence[float] | np.ndarray = ()) -> np.ndarray:
    """Heights of the rings between z0 and z1: a regular step plus the given edges (knots, label borders)."""
    z = np.concatenate([np.arange(z0, z1, ROW_STEP), [z0, z1], np.asarray(extra, dtype=np.float64)])
    z = z[(z >= z0) & (z <= z1)]
    return np.unique(np.round(z, 5))


def turn(z: np.ndarray, r: np.ndarray, segments: int = SEGMENTS) -> Shape:
    """Revolve (z, r) about the z axis. Vertex k lies on ring k // segments at angle 2 pi (k % segments) /
    segments from +x; side faces come ring by ring, then the flat bottom and top caps."""
    shape = lathe(z, r, segments)  # turns about x; the cyclic axis swap x->z keeps faces outward
    return Shape(shape.verts[:, [1, 2, 0]], shape.blocks)


def _angles(shape: Shape, segments: int) -> np.ndarray:
    return np.tile(np.linspace(0, 2 * np.pi, segments, endpoint=False), len(shape.verts) // segments)


def _scaled(shape: Shape, factor: np.ndarray) -> Shape:
    verts = shape.verts.copy()
    verts[:, :2] *= factor[:, None]
    return Shape(verts, shape.blocks)


def shape_factor(p: dict[str, Any], theta: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Radial scale of the round profile at (angle, height): cross-section, ribs, petaloid feet, dents.
    Applied alike to the wall and the liquid, so the liquid stays inside."""
    f = np.ones_like(z)
    sec = p["section"]
    if sec["kind"] != "round":
        if sec["kind"] == "oval":
            shaped = 1.0 / np.sqrt((np.cos(theta) / sec["aspect"]) ** 2 + np.sin(theta) ** 2)
        else:
            n = sec["aspect"]
            shaped = (np.abs(np.cos(theta)) ** n + np.abs(np.sin(theta)) ** n) ** (-1.0 / n)
        t = np.clip((z - sec["top"]) / max(sec["fade"], 1e-6), 0.0, 1.0)
        f *= 1.0 + (shaped - 1.0) * (1.0 - t * t * (3 - 2 * t))
    ribs = p["ribs"]
    if ribs["depth"] > 0:
        inside = (z >= ribs["z0"]) & (z <= ribs["z1"])
        phase = (z - ribs["z0"]) / max(ribs["z1"] - ribs["z0"], 1e-6) * ribs["count"]
        f *= 1.0 - inside * ribs["depth"] * (0.5 - 0.5 * np.cos(2 * np.pi * phase))
    pet = p["petaloid"]
    if pet["depth"] > 0:
        low = np.clip(1.0 - z / pet["height"], 0.0, 1.0)
        f *= 1.0 - pet["depth"] * low**1.5 * (0.5 - 0.5 * np.cos(pet["feet"] * theta))
    if p["dent"] > 0 and p["body_part"] != "glass":
        f *= 1.0 - _dents(p, theta, z)
    return f


def _dents(p: dict[str, Any], theta: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Gaussian pits where a PET or HDPE bottle was squeezed or knocked; `dent` 1 is badly crushed."""
    rng = np.random.default_rng(int(p["dent_seed"]))
    body_top = float(p["section"]["top"])
    depth = np.zeros_like(z)
    for _ in range(1 + int(rng.integers(0, 1 + round(3 * p["dent"])))):
        t0, z0 = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.95) * body_top
        dt = np.angle(np.exp(1j * (theta - t0)))
        width, height = rng.uniform(0.3, 0.9), rng.uniform(0.015, 0.05)
        depth += p["dent"] * rng.uniform(0.06, 0.2) * np.exp(-((dt / width) ** 2) - ((z - z0) / height) ** 2)
    return np.clip(depth, 0.0, 0.35)


def _face_paint(p: dict[str, Any], z: np.ndarray, segments: int) -> tuple[np.ndarray, np.ndarray]:
    """Colour and label mask of each side face (ring by ring): the body tint, or a label's colours."""
    mid = (z[:-1] + z[1:]) / 2
    theta = (np.arange(segments) + 0.5) * 2 * np.pi / segments
    theta = np.angle(np.exp(1j * theta))  # -pi..pi, 0 facing +x
    colors = np.broadcast_to(np.asarray(p["body_color"], dtype=np.float64), (len(mid), segments, 3)).copy()
    label = np.zeros((len(mid), segments), dtype=bool)
    for lab in p["labels"]:
        rows = (mid >= lab["z0"]) & (mid <= lab["z1"])
        cols = np.abs(theta) <= lab["arc"] * np.pi + 1e-9
        on = rows[:, None] & cols[None, :]
        colors[on] = lab["color"]
        accent = on & ((mid >= lab["accent_z0"]) & (mid <= lab["accent_z1"]))[:, None]
        colors[accent] = lab["accent"]
        label |= on
    return colors.reshape(-1, 3), label.reshape(-1)


def _label_edges(p: dict[str, Any]) -> list[float]:
    return [lab[k] for lab in p["labels"] for k in ("z0", "z1", "accent_z0", "accent_z1")]


def _wall(b: ShapeBuilder, p: dict[str, Any], knots: np.ndarray) -> None:
    z = rings(0.0, float(knots[-1, 0]), [*knots[:, 0], *_label_edges(p)])
    shape = turn(z, radius_at(knots, z))
    shape = _scaled(shape, shape_factor(p, _angles(shape, SEGMENTS), shape.verts[:, 2]))
    colors, label = _face_paint(p, z, SEGMENTS)
    side, caps = shape.blocks[0], shape.blocks[1:]
    b.add(Shape(shape.verts, [side[~label]]), colors[~label], p["body_part"])
    b.add(Shape(shape.verts, [side[label]]), colors[label], "label")
    b.add(Shape(shape.verts, caps), p["body_color"], p["body_part"])


def _liquid(b: ShapeBuilder, p: dict[str, Any], knots: np.ndarray) -> None:
    """The liquid as a body inset by the wall thickness, from the floor up to the fill level."""
    if p["liquid_color"] is None or p["fill"] <= 0:
        return
    wall = p["wall"]
    floor, ceiling = 1.5 * wall, float(knots[-1, 0]) - 0.015
    level = floor + p["fill"] * (ceiling - floor)
    z = rings(floor, level, knots[:, 0])
    r = radius_at(knots, z)
    shape = turn(z, np.maximum(r - wall, 0.3 * r))
    shape = _scaled(shape, shape_factor(p, _angles(shape, SEGMENTS), shape.verts[:, 2]))
    b.add(shape, p["liquid_color"], "liquid")


def _cap(b: ShapeBuilder, p: dict[str, Any], knots: np.ndarray) -> None:
    cap = p["cap"]
    top = float(knots[-1, 0])
    h, rc = cap["height"], cap["radius"]
    if cap["kind"] == "foil":  # a capsule shrunk onto the neck: follows the profile, a little proud
        z = rings(top - h, top, knots[:, 0])
        shape = turn(z, radius_at(knots, z) * 1.03 + 0.0005, CAP_SEGMENTS)
        b.add(shape.moved((0, 0, 0.001)), cap["color"], cap["part"])
        return
    if cap["kind"] == "crown":
        z, r, z0, crimp = (
            np.array([0.0, 0.35 * h, h]),
            np.array([rc * 1.04, rc, rc * 0.97]),
            top - 0.6 * h,
            0.06,
        )
    elif cap["kind"] == "screw":
        z, r, z0, crimp = np.array([0.0, 0.85 * h, h]), np.array([rc, rc, rc * 0.93]), top - 0.75 * h, 0.025
    else:  # flip-top closure: a skirt and a domed lid
        z = np.array([0.0, 0.55 * h, 0.6 * h, 0.85 * h, h])
        r, z0, crimp = np.array([rc, rc, rc * 0.97, rc * 0.92, rc * 0.7]), top - 0.5 * h, 0.0
    shape = turn(z, r, CAP_SEGMENTS)
    theta = _angles(shape, CAP_SEGMENTS)
    low = shape.verts[:, 2] < 0.5 * h  # crimps/grip ribs on the skirt only
    shape = _scaled(shape, 1.0 + crimp * low * np.cos(21 * theta))
    b.add(shape.moved((0, 0, z0)), cap["color"], cap["part"])


def build_bottle(p: dict[str, Any]) -> Mesh:
    """The mesh of one bottle: wall (with labels), liquid, cap."""
    knots = np.asarray(p["profile"], dtype=np.float64)
    b = ShapeBuilder()
    _wall(b, p, knots)
    _liquid(b, p, knots)
    _cap(b, p, knots)
    return b.mesh()
