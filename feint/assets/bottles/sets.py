"""The sets bottles are photographed on: a table, a conveyor belt, a shop shelf, a crate, the ground
outdoors; and the props (cans, cups, cartons) that stand among them unlabelled.

Frame of every set: the surface the bottles stand on is the plane z = 0 around the origin, the camera
looks from -y (the front of a shelf, the near side of a table), walls stand behind at +y. `sample_set`
draws a set's plain params; `support` says where on it bottles may go; `SET_BUILDERS` builds the meshes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from feint.assets.bottles.body import turn
from feint.assets.bottles.common import LABEL, color, pick_color
from feint.assets.mesh import Mesh
from feint.assets.ships import sampling as S
from feint.assets.ships.geometry import Shape, ShapeBuilder, box, boxes, ellipsoid, span_box

KINDS = ("table", "conveyor", "shelf", "crate", "outdoors")
#: Named colours (sRGB hex) of each set's main surface; outdoors it is the ground.
SURFACE_COLORS: dict[str, dict[str, str]] = {
    "table": {
        "oak": "a8784a",
        "walnut": "5a3a24",
        "white": "e8e6e0",
        "black": "202020",
        "grey": "8a8a88",
        "red_cloth": "8a1a1e",
        "blue_cloth": "2a4a80",
        "steel": "a8aaac",
    },
    "conveyor": {"black": "1c1c1c", "green": "2a5a3a", "grey": "5a5c5e", "blue": "1f3a6a", "white": "d8d8d4"},
    "shelf": {"white": "e6e6e2", "grey": "8a8c8e", "wood": "b08a5a", "black": "242424"},
    "crate": {"red": "b01a1a", "yellow": "e8b010", "green": "1a7a3a", "blue": "1a4a9a", "black": "1e1e1e"},
    "outdoors": {
        "grass": "4a6a2a",
        "dry_grass": "9a8a50",
        "sand": "c8b48a",
        "concrete": "9a9890",
        "asphalt": "3a3a3c",
        "soil": "5a4632",
    },
}
#: Walls behind indoor sets and their floors.
WALL_COLORS: dict[str, str] = {
    "white": "e8e6e0",
    "cream": "e6dcc0",
    "grey": "8a8a8a",
    "blue": "6a8ab0",
    "green": "7a9a7a",
    "dark": "2a2a2c",
    "brick": "8a4a3a",
    "wood": "8a6a4a",
}
FLOOR_COLORS: dict[str, str] = {"concrete": "8a8880", "tiles": "c8c4bc", "wood": "7a5a3a", "dark": "303032"}
METAL = color("a0a4a8")
CRATES = ((2, 3), (3, 3), (3, 4), (4, 5), (4, 6))  # cells across x, y


@dataclass(frozen=True)
class Support:
    """Where bottles may stand: a rectangle of the plane z = 0, or the cells of a crate (centres, side)."""

    x0: float
    x1: float
    y0: float
    y1: float
    cells: tuple[tuple[float, float], ...] = field(default_factory=tuple)
    cell: float = 0.0
    lying_yaw: float | None = None  # degrees: lying bottles point this way (a belt's run), else anyway


def sample_set(
    kind: str, rng: np.random.Generator, colors: dict[str, str], brightness: float, bottles: dict[str, float]
) -> dict[str, Any]:
    """Plain params of a set of `kind`. `colors` names the surface, wall and floor colours; `bottles`
    gives the tallest height, widest radius and count of the bottles it must hold."""
    if kind not in KINDS:
        raise ValueError(f"unknown set {kind!r}; expected one of {', '.join(KINDS)}")

    def lin(hex_value: str) -> list[float]:
        return [float(min(1.0, c * brightness)) for c in color(hex_value)]

    p: dict[str, Any] = {
        "kind": kind,
        "color": lin(SURFACE_COLORS[kind][colors["surface"]]),
        "wall": lin(WALL_COLORS[colors["wall"]]),
        "floor": lin(FLOOR_COLORS[colors["floor"]]),
        "wall_distance": S.uniform(rng, 0.3, 2.5),
        "seed": S.seed(rng),
    }
    if kind == "table":
        part = "metal" if colors["surface"] == "steel" else "wood"  # cloth shades like wood: rough
        p.update(width=S.uniform(rng, 1.0, 1.8), depth=S.uniform(rng, 0.6, 1.0), part=part)
    elif kind == "conveyor":
        rails = S.integer(rng, 0, 2)  # guide rails along each edge, hiding the bottles' lower parts
        p.update(width=S.uniform(rng, 0.22, 0.5), rails=rails, rail_height=S.uniform(rng, 0.04, 0.12))
    elif kind == "shelf":
        p.update(
            depth=S.uniform(rng, 0.32, 0.5),
            clearance=bottles["height"] + S.uniform(rng, 0.04, 0.14),
            strip=pick_color(rng, LABEL),
            lying_yaw=90.0 * S.integer(rng, 0, 1),  # along the front, or neck out as in a wine rack
        )
    elif kind == "crate":
        shapes = [s for s in CRATES if s[0] * s[1] >= bottles["count"]] or [CRATES[-1]]
        cols, rows = shapes[int(rng.integers(len(shapes)))]
        p.update(
            cols=cols,
            rows=rows,
            cell=2 * bottles["radius"] + S.uniform(rng, 0.006, 0.015),
            wall_height=S.uniform(rng, 0.45, 0.7) * bottles["height"],
        )
    return p


def support(p: dict[str, Any]) -> Support:
    kind = p["kind"]
    if kind == "table":
        w, d = p["width"] / 2 - 0.04, p["depth"] / 2 - 0.04
        return Support(-w, w, -d, d)
    if kind == "conveyor":
        w = p["width"] / 2 - 0.01
        return Support(-1.5, 1.5, -w, w, lying_yaw=0.0)
    if kind == "shelf":
        d = p["depth"] / 2 - 0.015
        return Support(-1.1, 1.1, -d, d, lying_yaw=p["lying_yaw"])
    if kind == "crate":
        xs, ys = _crate_cells(p)
        cells = tuple((float(x), float(y)) for y in ys for x in xs)
        half = p["cell"] / 2
        return Support(xs[0] - half, xs[-1] + half, ys[0] - half, ys[-1] + half, cells=cells, cell=p["cell"])
    return Support(-1.0, 1.0, -1.0, 1.0)


def _crate_cells(p: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    cell = p["cell"]
    return (np.arange(p["cols"]) - (p["cols"] - 1) / 2) * cell, (
        np.arange(p["rows"]) - (p["rows"] - 1) / 2
    ) * cell


def _room(b: ShapeBuilder, p: dict[str, Any], floor_z: float, back_y: float) -> None:
    """Floor and back wall of an indoor set."""
    b.add(span_box(-6, 6, -6, back_y, floor_z - 0.05, floor_z), p["floor"], "ground")
    b.add(span_box(-6, 6, back_y, back_y + 0.1, floor_z, floor_z + 4.0), p["wall"], "ground")


def table(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    w, d, h = p["width"], p["depth"], 0.74
    b.add(span_box(-w / 2, w / 2, -d / 2, d / 2, -0.03, 0.0), p["color"], p["part"])
    legs = np.array([(sx * (w / 2 - 0.06), sy * (d / 2 - 0.06), -h / 2) for sx in (-1, 1) for sy in (-1, 1)])
    b.add(boxes(legs, (0.05, 0.05, h)), p["color"], p["part"])
    _room(b, p, -h, d / 2 + p["wall_distance"])
    return b.mesh()


def conveyor(p: dict[str, Any]) -> Mesh:
    """A flat belt between steel side frames, guide rails above its edges, legs to the floor."""
    b = ShapeBuilder()
    w, length, h = p["width"], 6.0, 0.85
    b.add(span_box(-length / 2, length / 2, -w / 2, w / 2, -0.02, 0.0), p["color"], "rubber")
    for side in (-1, 1):
        y = side * (w / 2 + 0.02)
        b.add(box((length, 0.04, 0.15), (0, y, -0.06)), METAL, "metal")
        for k in range(p["rails"]):
            z = p["rail_height"] * (k + 1) / p["rails"]
            b.add(box((length, 0.012, 0.012), (0, side * (w / 2 - 0.004), z)), METAL, "metal")
        posts = np.array(
            [(x, side * (w / 2 + 0.01), p["rail_height"] / 2) for x in np.arange(-2.7, 2.8, 0.6)]
        )
        if p["rails"]:
            b.add(boxes(posts, (0.012, 0.012, p["rail_height"])), METAL, "metal")
        legs = np.array([(x, side * (w / 2 + 0.02), -(h + 0.13) / 2) for x in (-2.4, -1.2, 0.0, 1.2, 2.4)])
        b.add(boxes(legs, (0.05, 0.05, h - 0.13)), METAL, "metal")
    _room(b, p, -h, w / 2 + p["wall_distance"])
    return b.mesh()


def shelf(p: dict[str, Any]) -> Mesh:
    """A shop gondola: the board the bottles stand on, a price strip along its front edge, the board
    above (just clearing the tallest bottle) and below, the back panel and the uprights."""
    b = ShapeBuilder()
    d, c = p["depth"], p["clearance"]
    for z in (-c, 0.0, c):
        b.add(span_box(-1.25, 1.25, -d / 2, d / 2, z - 0.025, z), p["color"], "metal")
        b.add(span_box(-1.25, 1.25, -d / 2 - 0.012, -d / 2, z - 0.045, z + 0.012), p["strip"], "label")
    b.add(span_box(-1.3, 1.3, d / 2, d / 2 + 0.02, -1.2, c + 0.6), p["color"], "metal")
    for x in (-1.28, 1.28):
        b.add(box((0.04, d + 0.04, 1.8 + c), (x, 0.0, (c + 0.6 - 1.2) / 2)), p["color"], "metal")
    _room(b, p, -1.2, d / 2 + 0.02 + p["wall_distance"])
    return b.mesh()


def crate(p: dict[str, Any]) -> Mesh:
    """A bottle crate: outer walls, a grid of dividers, a base; on a floor in front of a wall."""
    b = ShapeBuilder()
    xs, ys = _crate_cells(p)
    cell, hw, t = p["cell"], p["wall_height"], 0.012
    x1, y1 = xs[-1] + cell / 2 + t, ys[-1] + cell / 2 + t
    b.add(span_box(-x1, x1, -y1, y1, -0.02, 0.0), p["color"], "plastic")
    walls = [
        span_box(-x1, -x1 + t, -y1, y1, -0.02, hw),
        span_box(x1 - t, x1, -y1, y1, -0.02, hw),
        span_box(-x1, x1, -y1, -y1 + t, -0.02, hw),
        span_box(-x1, x1, y1 - t, y1, -0.02, hw),
    ]
    inner_x, inner_y = 2 * (x1 - t), 2 * (y1 - t)  # dividers stop at the walls' inner faces
    walls += [box((0.004, inner_y, 0.8 * hw), (x, 0, 0.4 * hw)) for x in (xs[:-1] + xs[1:]) / 2]
    walls += [box((inner_x, 0.004, 0.8 * hw), (0, y, 0.4 * hw)) for y in (ys[:-1] + ys[1:]) / 2]
    for shape in walls:
        b.add(shape, p["color"], "plastic")
    _room(b, p, -0.02, y1 + p["wall_distance"])
    return b.mesh()


def outdoors(p: dict[str, Any]) -> Mesh:
    """Ground with gentle bumps away from the bottles and patchy colour, a few shrubs and stones."""
    rng = np.random.default_rng(int(p["seed"]))
    n, size = 25, 16.0
    xs = np.linspace(-size / 2, size / 2, n)
    gx, gy = np.meshgrid(xs, xs)
    calm = np.clip((np.hypot(gx, gy) - 1.5) / 3.0, 0.0, 1.0)  # flat where the bottles stand
    gz = calm * rng.normal(0.0, 0.06, gx.shape) - 0.001
    i = np.arange(n - 1)
    quads = (i[None, :] + n * i[:, None]).reshape(-1)
    faces = np.column_stack([quads, quads + 1, quads + n + 1, quads + n])
    shade = rng.uniform(0.75, 1.25, (len(faces), 1))
    b = ShapeBuilder()
    ground = Shape(np.column_stack([gx.ravel(), gy.ravel(), gz.ravel()]), [faces])
    b.add(ground, np.clip(np.asarray(p["color"]) * shade, 0, 1), "ground")
    for _ in range(int(rng.integers(2, 7))):
        a, dist = rng.uniform(0, 2 * np.pi), rng.uniform(2.5, 7.0)
        radius = rng.uniform(0.2, 0.8)
        green = np.array(color("3a5a22")) * rng.uniform(0.6, 1.3)
        bush = ellipsoid((dist * np.cos(a), abs(dist * np.sin(a)), 0.3 * radius), (radius,) * 3)
        b.add(bush, np.clip(green, 0, 1), "ground")
    return b.mesh()


PROPS = ("can", "cup", "carton")


def sample_prop(rng: np.random.Generator) -> dict[str, Any]:
    """An unlabelled object that stands among bottles: a drinks can, a cup or a carton. `radius` and
    `height` are its footprint and height, for placing it."""
    kind = S.choice(rng, PROPS, [0.45, 0.25, 0.3])
    if kind == "can":
        radius, height = S.uniform(rng, 0.026, 0.034), S.uniform(rng, 0.1, 0.16)
    elif kind == "cup":
        radius, height = S.uniform(rng, 0.035, 0.045), S.uniform(rng, 0.08, 0.12)
    else:
        radius, height = S.uniform(rng, 0.04, 0.09), S.uniform(rng, 0.08, 0.25)
    return {
        "kind": kind,
        "radius": radius,
        "height": height,
        "color": pick_color(rng, LABEL),
        "accent": pick_color(rng, LABEL),
    }


def prop(p: dict[str, Any]) -> Mesh:
    b = ShapeBuilder()
    r, h = p["radius"], p["height"]
    if p["kind"] == "can":
        b.add(
            turn(np.array([0.0, 0.008, h - 0.01, h]), np.array([0.8 * r, r, r, 0.85 * r]), 24), METAL, "metal"
        )
        b.add(turn(np.array([0.25 * h, 0.75 * h]), np.array([r * 1.003, r * 1.003]), 24), p["color"], "label")
    elif p["kind"] == "cup":
        b.add(turn(np.array([0.0, h]), np.array([0.7 * r, r]), 20), p["color"], "plastic")
    else:
        side = r * np.sqrt(2)  # the footprint disc holds a square carton
        b.add(box((side, side * 0.7, h), (0, 0, h / 2)), p["color"], "label")
        b.add(box((side * 1.002, side * 0.702, 0.3 * h), (0, 0, 0.5 * h)), p["accent"], "label")
    return b.mesh()


SET_BUILDERS: dict[str, Callable[[dict[str, Any]], Mesh]] = {
    "table": table,
    "conveyor": conveyor,
    "shelf": shelf,
    "crate": crate,
    "outdoors": outdoors,
    "prop": prop,
}
