"""Vectorised polygon primitives for the ship models.

`feint.assets.mesh.merge` walks faces one at a time in Python, which is too slow for ships with
thousands of containers and windows rebuilt for every image. Here each primitive is a `Shape` whose
faces are numpy blocks, and a `ShapeBuilder` concatenates everything into one `Mesh` at the end.
Faces are counter-clockwise seen from outside, like `Mesh`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from feint.assets.mesh import PART_INDEX, Mesh

Color = Sequence[float]


@dataclass
class Shape:
    """Vertices (V, 3) and faces as blocks of equal-sized polygons, each block an int array (F, k)."""

    verts: np.ndarray
    blocks: list[np.ndarray] = field(default_factory=list)

    @property
    def n_faces(self) -> int:
        return sum(len(b) for b in self.blocks)

    def moved(self, offset: Sequence[float] | np.ndarray) -> Shape:
        return Shape(self.verts + np.asarray(offset, dtype=np.float64), self.blocks)

    def rotated(self, matrix: np.ndarray, pivot: Sequence[float] = (0.0, 0.0, 0.0)) -> Shape:
        p = np.asarray(pivot, dtype=np.float64)
        return Shape((self.verts - p) @ np.asarray(matrix).T + p, self.blocks)

    def flipped(self) -> Shape:
        """The same surface facing the other way (reversed winding)."""
        return Shape(self.verts, [b[:, ::-1] for b in self.blocks])

    def __add__(self, other: Shape) -> Shape:
        n = len(self.verts)
        return Shape(np.concatenate([self.verts, other.verts]), self.blocks + [b + n for b in other.blocks])


def double_sided(shape: Shape) -> Shape:
    """Front and back faces for a thin surface (sails, flags) so both sides shade as seen from outside."""
    return shape + shape.flipped()


class ShapeBuilder:
    """Collects shapes with a colour and material part each, then makes one `Mesh`."""

    def __init__(self) -> None:
        self._verts: list[np.ndarray] = []
        self._blocks: list[np.ndarray] = []
        self._colors: list[np.ndarray] = []
        self._parts: list[np.ndarray] = []
        self._n_verts = 0

    def add(self, shape: Shape, color: Color | np.ndarray, part: str) -> None:
        """Add `shape` painted `color`: one RGB for all faces, or an (F, 3) array in face order."""
        n_faces = shape.n_faces
        if n_faces == 0:
            return
        col = np.asarray(color, dtype=np.float64)
        self._colors.append(np.broadcast_to(col, (n_faces, 3)) if col.ndim == 1 else col.reshape(n_faces, 3))
        self._parts.append(np.full(n_faces, PART_INDEX[part], dtype=np.int32))
        self._verts.append(shape.verts)
        self._blocks.extend(b + self._n_verts for b in shape.blocks)
        self._n_verts += len(shape.verts)

    def mesh(self) -> Mesh:
        if not self._verts:
            return Mesh()
        faces: list[tuple[int, ...]] = []
        for block in self._blocks:
            faces.extend(map(tuple, block.tolist()))
        return Mesh(
            np.concatenate(self._verts), faces, np.concatenate(self._colors), np.concatenate(self._parts)
        )


# ----- primitives ---------------------------------------------------------------------------------------
_BOX_FACES = np.array([(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)])
_BOX_CORNERS = (
    np.array(
        [[-1, -1, -1], [1, -1, -1], [1, 1, -1], [-1, 1, -1], [-1, -1, 1], [1, -1, 1], [1, 1, 1], [-1, 1, 1]],
        dtype=np.float64,
    )
    / 2
)


def boxes(centers: np.ndarray, sizes: np.ndarray | Sequence[float]) -> Shape:
    """Many axis-aligned boxes at once; faces come box by box, six each (bottom, top, -y, +x, +y, -x)."""
    c = np.asarray(centers, dtype=np.float64).reshape(-1, 3)
    s = np.broadcast_to(np.asarray(sizes, dtype=np.float64), c.shape)
    verts = (c[:, None, :] + s[:, None, :] * _BOX_CORNERS[None]).reshape(-1, 3)
    faces = (_BOX_FACES[None] + 8 * np.arange(len(c))[:, None, None]).reshape(-1, 4)
    return Shape(verts, [faces])


def box(size: Sequence[float], center: Sequence[float]) -> Shape:
    return boxes(np.asarray([center]), np.asarray([size]))


def span_box(x0: float, x1: float, y0: float, y1: float, z0: float, z1: float) -> Shape:
    """A box given by its extents, handy when parts are laid out by edges rather than centres."""
    return box((x1 - x0, y1 - y0, z1 - z0), ((x0 + x1) / 2, (y0 + y1) / 2, (z0 + z1) / 2))


def prism(poly: np.ndarray, z0: float, z1: float, top: np.ndarray | None = None, caps: bool = True) -> Shape:
    """Extrude a counter-clockwise (seen from above) xy polygon from z0 to z1.

    `top` is an optional second polygon with the same vertex count for the top ring (tapered walls,
    stepped or raked fronts). Blocks come as walls, bottom cap, top cap (so callers can paint a top).
    """
    p = np.asarray(poly, dtype=np.float64)
    t = p if top is None else np.asarray(top, dtype=np.float64)
    n = len(p)
    verts = np.concatenate([np.column_stack([p, np.full(n, z0)]), np.column_stack([t, np.full(n, z1)])])
    i = np.arange(n)
    j = (i + 1) % n
    blocks = [np.column_stack([i, j, j + n, i + n])]
    if caps:
        blocks += [i[::-1][None], (i + n)[None]]
    return Shape(verts, blocks)


def rounded_rect(
    x0: float,
    x1: float,
    half_width: float,
    front_round: float = 0.0,
    back_round: float = 0.0,
    segments: int = 6,
) -> np.ndarray:
    """CCW plan outline of a deckhouse: a rectangle whose front/back ends are rounded by a share 0..1.

    A share of 1 makes a half-ellipse end as long as `half_width * 1.0`; deckhouses of cruise ships,
    yachts and submarine sails differ mostly in how round their ends are.
    """

    def end(x_end: float, sign: float, share: float) -> np.ndarray:
        depth = min(share * half_width, 0.45 * (x1 - x0))
        if depth <= 1e-6:
            ys = np.array([-half_width, half_width]) * sign
            return np.column_stack([np.full(2, x_end), ys])
        a = np.linspace(-np.pi / 2, np.pi / 2, segments + 1)
        return np.column_stack(
            [x_end - sign * depth + sign * depth * np.cos(a), sign * half_width * np.sin(a)]
        )

    return np.concatenate([end(x1, 1.0, front_round), end(x0, -1.0, back_round)])


def _frame(direction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors perpendicular to `direction` and to each other."""
    d = direction / np.linalg.norm(direction)
    helper = np.array([0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(d, helper)
    e1 /= np.linalg.norm(e1)
    return e1, np.cross(d, e1)


def beams(starts: np.ndarray, ends: np.ndarray, radius: float | np.ndarray, sides: int = 4) -> Shape:
    """Thin prisms between point pairs (masts, booms, rigging, railings, lattice members); no caps."""
    a = np.asarray(starts, dtype=np.float64).reshape(-1, 3)
    b = np.asarray(ends, dtype=np.float64).reshape(-1, 3)
    r = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(a),))
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False) + np.pi / sides
    rings = []
    for k in range(len(a)):
        e1, e2 = _frame(b[k] - a[k])
        ring = r[k] * (np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2)
        rings.append(np.concatenate([a[k] + ring, b[k] + ring]))
    i = np.arange(sides)
    j = (i + 1) % sides
    quad = np.column_stack([i, j, j + sides, i + sides])
    faces = (quad[None] + 2 * sides * np.arange(len(a))[:, None, None]).reshape(-1, 4)
    return Shape(np.concatenate(rings) if rings else np.zeros((0, 3)), [faces])


def beam(
    start: Sequence[float] | np.ndarray, end: Sequence[float] | np.ndarray, radius: float, sides: int = 4
) -> Shape:
    return beams(np.asarray([start]), np.asarray([end]), radius, sides)


def lathe(
    xs: np.ndarray,
    radii: np.ndarray,
    segments: int = 12,
    z_scale: float = 1.0,
    center: Sequence[float] = (0.0, 0.0, 0.0),
) -> Shape:
    """A body of revolution about the x axis (submarine hulls, bulbs, lifeboats, turrets on their side).

    Ends with zero radius close on a point; others get a flat cap. `z_scale` squashes it vertically.
    """
    x = np.asarray(xs, dtype=np.float64)
    r = np.asarray(radii, dtype=np.float64)
    n = len(x)
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = np.column_stack([np.cos(ang), np.sin(ang) * z_scale])  # (y, z)
    verts = np.column_stack([np.repeat(x, segments), (r[:, None, None] * ring[None]).reshape(-1, 2)])
    i = np.arange(segments)
    j = (i + 1) % segments
    rows = np.arange(n - 1)[:, None] * segments
    faces = np.concatenate([np.column_stack([i, j, j + segments, i + segments]) + r0 for r0 in rows])
    blocks = [faces]
    if r[0] > 1e-9:
        blocks.append(i[::-1][None])
    if r[-1] > 1e-9:
        blocks.append(((n - 1) * segments + i)[None])
    return Shape(verts + np.asarray(center, dtype=np.float64), blocks)


def ellipsoid(center: Sequence[float], radii: Sequence[float], segments: int = 10, rings: int = 7) -> Shape:
    """An ellipsoid (bulbous bows, domes, buoys, fenders)."""
    t = np.linspace(-np.pi / 2, np.pi / 2, rings)
    xs = np.sin(t) * radii[0]
    rs = np.cos(t) * radii[1]
    return lathe(xs, rs, segments, z_scale=radii[2] / radii[1], center=center)


def strip(bottom: np.ndarray, top: np.ndarray) -> Shape:
    """Quads between two polylines of equal length. Seen from above, with `top` over `bottom`, the faces
    point to the right of the direction the polylines run (run them clockwise around a body)."""
    b = np.asarray(bottom, dtype=np.float64)
    t = np.asarray(top, dtype=np.float64)
    n = len(b)
    i = np.arange(n - 1)
    return Shape(np.concatenate([b, t]), [np.column_stack([i, i + 1, i + n + 1, i + n])])


def tube(path: np.ndarray, radius: float, sides: int = 8, closed: bool = False) -> Shape:
    """A round tube swept along a polyline (RIB tubes, fender belts, rails); open ends."""
    p = np.asarray(path, dtype=np.float64)
    n = len(p)
    tangents = np.gradient(p, axis=0) if not closed else np.roll(p, -1, 0) - np.roll(p, 1, 0)
    ang = np.linspace(0, 2 * np.pi, sides, endpoint=False)
    rings = []
    for k in range(n):
        e1, e2 = _frame(tangents[k])
        rings.append(p[k] + radius * (np.cos(ang)[:, None] * e1 + np.sin(ang)[:, None] * e2))
    i = np.arange(sides)
    j = (i + 1) % sides
    count = n if closed else n - 1
    faces = np.concatenate(
        [np.column_stack([i, j, (j + sides), (i + sides)]) + k * sides for k in range(count)]
    )
    faces %= n * sides
    return Shape(np.concatenate(rings), [faces])


def patch(corners: np.ndarray, bulge: np.ndarray, rows: int = 4, cols: int = 4) -> Shape:
    """A bilinear quad patch through 4 corners (a triangle if two coincide), bellied by `bulge` (a vector
    scaled by a sine bump that is zero on the edges): sails that look filled by wind."""
    c = np.asarray(corners, dtype=np.float64)
    u = np.linspace(0, 1, cols + 1)
    v = np.linspace(0, 1, rows + 1)
    uu, vv = np.meshgrid(u, v)
    pts = (
        (1 - uu)[..., None] * (1 - vv)[..., None] * c[0]
        + uu[..., None] * (1 - vv)[..., None] * c[1]
        + uu[..., None] * vv[..., None] * c[2]
        + (1 - uu)[..., None] * vv[..., None] * c[3]
    )
    pts = pts + (np.sin(np.pi * uu) * np.sin(np.pi * vv))[..., None] * np.asarray(bulge, dtype=np.float64)
    w = cols + 1
    r, q = np.meshgrid(np.arange(rows), np.arange(cols), indexing="ij")
    a = (r * w + q).ravel()
    faces = np.column_stack([a, a + 1, a + w + 1, a + w])
    return Shape(pts.reshape(-1, 3), [faces])


def outline_offset(poly: np.ndarray, distance: float) -> np.ndarray:
    """A CCW polygon pushed outwards by `distance` (miter joins), e.g. to float windows off a wall."""
    p = np.asarray(poly, dtype=np.float64)
    edge = np.roll(p, -1, 0) - p
    normal = np.column_stack([edge[:, 1], -edge[:, 0]]) / np.linalg.norm(edge, axis=1, keepdims=True).clip(
        1e-9
    )
    vnormal = normal + np.roll(normal, 1, 0)
    vnormal /= np.linalg.norm(vnormal, axis=1, keepdims=True).clip(1e-9)
    cos_half = np.einsum("ij,ij->i", vnormal, normal).clip(0.3, 1.0)
    return p + vnormal * (distance / cos_half)[:, None]


def wall_panels(
    poly: np.ndarray,
    z0: float,
    z1: float,
    pitch: float | None = None,
    fill: float = 0.6,
    offset: float = 0.03,
    edges: Sequence[int] | None = None,
    min_edge: float = 0.0,
) -> Shape:
    """Rectangles floating just off the walls of an extruded CCW polygon: windows, doors, openings.

    With `pitch` None each chosen edge gets one continuous band (bridge windows, balcony rows); otherwise
    windows `fill` of the pitch wide are spaced every `pitch` metres along the edge.
    """
    p = outline_offset(poly, offset)
    n = len(p)
    chosen = range(n) if edges is None else [e % n for e in edges]
    starts, ends = [], []
    for e in chosen:
        a, b = p[e], p[(e + 1) % n]
        length = float(np.linalg.norm(b - a))
        if length <= max(min_edge, 1e-6):
            continue
        if pitch is None:
            starts.append(a)
            ends.append(b)
            continue
        count = int(length / pitch)
        if count == 0:
            continue
        centers = (np.arange(count) + 0.5) / count
        half = 0.5 * fill * pitch / length
        starts.extend(a + (b - a) * (centers - half)[:, None])
        ends.extend(a + (b - a) * (centers + half)[:, None])
    if not starts:
        return Shape(np.zeros((0, 3)))
    s = np.asarray(starts)
    t = np.asarray(ends)
    k = len(s)
    verts = np.concatenate(
        [
            np.column_stack([s, np.full(k, z0)]),
            np.column_stack([t, np.full(k, z0)]),
            np.column_stack([t, np.full(k, z1)]),
            np.column_stack([s, np.full(k, z1)]),
        ]
    )
    i = np.arange(k)
    return Shape(verts, [np.column_stack([i, i + k, i + 2 * k, i + 3 * k])])


def wall_band(
    lower: np.ndarray, upper: np.ndarray, z0: float, z1: float, edges: Sequence[int], offset: float = 0.03
) -> Shape:
    """Quads on chosen edges of a sloped wall, between the CCW outline `lower` at z0 and `upper` at z1
    (same vertex count), floated `offset` outwards: windows on raked windscreens and tapered towers."""
    lo, hi = outline_offset(lower, offset), outline_offset(upper, offset)
    n = len(lo)
    e = np.asarray(edges, dtype=int) % n
    if len(e) == 0:
        return Shape(np.zeros((0, 3)))
    verts = np.concatenate([np.column_stack([lo, np.full(n, z0)]), np.column_stack([hi, np.full(n, z1)])])
    f = (e + 1) % n
    return Shape(verts, [np.column_stack([e, f, f + n, e + n])])


def axis_rects(
    axis: int,
    level: np.ndarray | float,
    u0: np.ndarray | float,
    u1: np.ndarray | float,
    v0: np.ndarray | float,
    v1: np.ndarray | float,
    facing: np.ndarray | float = 1.0,
) -> Shape:
    """Axis-aligned rectangles in planes perpendicular to `axis` (0 x, 1 y, 2 z) at `level`, spanning
    [u0, u1] x [v0, v1] in the two other axes taken cyclically (x: y, z; y: z, x; z: x, y), facing
    +axis or -axis. Containers, windows on flat sides and deck markings are all made of these."""
    lev, u0, u1, v0, v1, face = np.broadcast_arrays(
        *(np.atleast_1d(np.asarray(a, dtype=np.float64)) for a in (level, u0, u1, v0, v1, facing))
    )
    k = len(u0)
    iu, iv = (axis + 1) % 3, (axis + 2) % 3
    verts = np.zeros((4 * k, 3))
    for n, (u, v) in enumerate(((u0, v0), (u1, v0), (u1, v1), (u0, v1))):
        verts[n * k : (n + 1) * k, axis] = lev
        verts[n * k : (n + 1) * k, iu] = u
        verts[n * k : (n + 1) * k, iv] = v
    i = np.arange(k)
    quads = np.column_stack([i, i + k, i + 2 * k, i + 3 * k])
    quads[face < 0] = quads[face < 0][:, ::-1]
    return Shape(verts, [quads])


def side_panels(
    x0: np.ndarray, x1: np.ndarray, z0: np.ndarray, z1: np.ndarray, y: float | np.ndarray
) -> Shape:
    """Rectangles in vertical planes y = const facing outwards (+y when y > 0): windows and openings on
    hull sides, hull numbers."""
    y_arr = np.asarray(y, dtype=np.float64)
    return axis_rects(1, y_arr, z0, z1, x0, x1, np.where(y_arr > 0, 1.0, -1.0))


# 7-segment glyphs: segments a b c d e f g as (x0, z0, x1, z1) in a 0..1 x 0..2 cell
_SEGMENTS = {
    "a": (0, 1.9, 1, 2),
    "b": (0.9, 1, 1, 2),
    "c": (0.9, 0, 1, 1),
    "d": (0, 0, 1, 0.1),
    "e": (0, 0, 0.1, 1),
    "f": (0, 1, 0.1, 2),
    "g": (0, 0.95, 1, 1.05),
}
_GLYPHS = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
    # block capitals of the same seven strokes: enough for a shipping line's name read at a distance
    "A": "abcefg",
    "C": "adef",
    "E": "adefg",
    "F": "aefg",
    "G": "acdef",
    "H": "bcefg",
    "L": "def",
    "N": "abcef",
    "O": "abcdef",
    "P": "abefg",
    "S": "acdfg",
    "U": "bcdef",
    "Y": "bcdfg",
}
LETTERS = "ACEFGHLNOPSUY"


def hull_number(text: str, x_center: float, z_bottom: float, height: float, y: float) -> Shape:
    """Block digits or capitals painted on a side (hull numbers of warships, a car carrier's shipping
    line), read correctly from that side; spaces and unknown characters leave a gap."""
    width = 0.5 * height
    pitch = 0.75 * height
    rects = []
    for k, ch in enumerate(text):
        left = (k - (len(text) - 1) / 2) * pitch - width / 2
        for seg in _GLYPHS.get(ch, ""):
            sx0, sz0, sx1, sz1 = _SEGMENTS[seg]
            rects.append(
                (
                    left + sx0 * width,
                    left + sx1 * width,
                    z_bottom + sz0 * height / 2,
                    z_bottom + sz1 * height / 2,
                )
            )
    if not rects:
        return Shape(np.zeros((0, 3)))
    r = np.asarray(rects)
    # seen from port (+y) the text runs towards -x (aft is to the right), so mirror it there
    xs0, xs1 = (x_center + r[:, 0], x_center + r[:, 1]) if y < 0 else (x_center - r[:, 1], x_center - r[:, 0])
    return side_panels(xs0, xs1, r[:, 2], r[:, 3], y)
