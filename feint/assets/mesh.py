"""Renderer-independent triangle/polygon meshes built with numpy.

Assets are generated as plain data so they can be built, inspected and tested without Blender;
`feint.render.apply` is the only place that turns a `Mesh` into a Blender object.

Conventions (all assets): metres; +x is the bow (forward), +y is port (left), +z is up;
z = 0 is the waterline and the origin sits amidships on the centreline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Material families a face can belong to. The renderer gives each one its own shader
#: (roughness, metalness, how rust/dirt/snow apply); colours come per face from the asset.
PARTS: tuple[str, ...] = (
    "hull",  # painted steel shell, rusts and gets dirty
    "deck",  # walkable surfaces, rough, collects snow
    "superstructure",  # painted accommodation blocks, bridges, islands
    "window",  # dark glossy glass
    "metal",  # masts, cranes, funnels, railings, antennas
    "sail",  # fabric
    "rubber",  # fenders, black rough
    "cargo",  # containers, vehicles, deck cargo
    "wood",  # teak decks, small boats
    "ground",  # land, quays, buildings (backgrounds)
    # bottles (appended: the indices above must not move)
    "glass",  # clear or tinted bottle glass, seen through
    "pet",  # thin PET film of drink bottles, seen through
    "liquid",  # the drink inside a bottle, seen through
    "label",  # paper or film labels, cartons
    "plastic",  # opaque moulded plastic: HDPE bottles, caps, crates
)
PART_INDEX: dict[str, int] = {name: i for i, name in enumerate(PARTS)}


@dataclass
class Mesh:
    """Polygon soup with a colour and a material part per face.

    `faces` holds polygons as tuples of vertex indices (counter-clockwise seen from outside).
    `face_colors` is linear RGB in [0, 1]; `face_parts` indexes `PARTS`.
    """

    vertices: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    faces: list[tuple[int, ...]] = field(default_factory=list)
    face_colors: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    face_parts: np.ndarray = field(default_factory=lambda: np.zeros((0,), dtype=np.int32))

    def __post_init__(self) -> None:
        self.vertices = np.asarray(self.vertices, dtype=np.float64).reshape(-1, 3)
        self.face_colors = np.asarray(self.face_colors, dtype=np.float64).reshape(-1, 3)
        self.face_parts = np.asarray(self.face_parts, dtype=np.int32).reshape(-1)
        n = len(self.faces)
        if len(self.face_colors) != n or len(self.face_parts) != n:
            raise ValueError(
                f"mesh has {n} faces but {len(self.face_colors)} colours and {len(self.face_parts)} parts"
            )
        if n and max(max(f) for f in self.faces) >= len(self.vertices):
            raise ValueError("a face refers to a vertex that does not exist")

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Axis-aligned (min, max) corners; zeros for an empty mesh."""
        if len(self.vertices) == 0:
            return np.zeros(3), np.zeros(3)
        return self.vertices.min(axis=0), self.vertices.max(axis=0)

    @property
    def size(self) -> np.ndarray:
        lo, hi = self.bounds
        return hi - lo

    def transformed(self, matrix: np.ndarray) -> Mesh:
        """A copy with a 4x4 (or 3x3) transform applied to the vertices."""
        m = np.asarray(matrix, dtype=np.float64)
        if m.shape == (3, 3):
            verts = self.vertices @ m.T
        else:
            verts = self.vertices @ m[:3, :3].T + m[:3, 3]
        return Mesh(verts, list(self.faces), self.face_colors.copy(), self.face_parts.copy())

    def translated(self, offset: tuple[float, float, float] | np.ndarray) -> Mesh:
        return Mesh(
            self.vertices + np.asarray(offset, dtype=np.float64),
            list(self.faces),
            self.face_colors.copy(),
            self.face_parts.copy(),
        )

    def scaled(self, factors: float | tuple[float, float, float]) -> Mesh:
        return Mesh(
            self.vertices * np.asarray(factors, dtype=np.float64),
            list(self.faces),
            self.face_colors.copy(),
            self.face_parts.copy(),
        )


def merge(meshes: list[Mesh]) -> Mesh:
    """Concatenate meshes into one (vertex indices are offset)."""
    verts: list[np.ndarray] = []
    faces: list[tuple[int, ...]] = []
    colors: list[np.ndarray] = []
    parts: list[np.ndarray] = []
    offset = 0
    for m in meshes:
        verts.append(m.vertices)
        faces.extend(tuple(i + offset for i in f) for f in m.faces)
        colors.append(m.face_colors)
        parts.append(m.face_parts)
        offset += len(m.vertices)
    if not verts:
        return Mesh()
    return Mesh(np.concatenate(verts), faces, np.concatenate(colors), np.concatenate(parts))


def rotation_matrix(yaw: float = 0.0, pitch: float = 0.0, roll: float = 0.0) -> np.ndarray:
    """3x3 rotation from yaw (about z), pitch (about y, bow up positive) and roll (about x), radians."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    cp, sp = np.cos(pitch), np.sin(pitch)
    cr, sr = np.cos(roll), np.sin(roll)
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    ry = np.array([[cp, 0, -sp], [0, 1, 0], [sp, 0, cp]])
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    return rz @ ry @ rx


def _uniform(n_faces: int, color: tuple[float, float, float], part: str) -> tuple[np.ndarray, np.ndarray]:
    return np.tile(np.asarray(color, dtype=np.float64), (n_faces, 1)), np.full(n_faces, PART_INDEX[part])


def box(
    size: tuple[float, float, float],
    center: tuple[float, float, float] = (0.0, 0.0, 0.0),
    color: tuple[float, float, float] = (0.5, 0.5, 0.5),
    part: str = "superstructure",
) -> Mesh:
    """An axis-aligned box of `size` (x, y, z) centred on `center`."""
    sx, sy, sz = (s / 2 for s in size)
    v = np.array(
        [
            [-sx, -sy, -sz],
            [sx, -sy, -sz],
            [sx, sy, -sz],
            [-sx, sy, -sz],
            [-sx, -sy, sz],
            [sx, -sy, sz],
            [sx, sy, sz],
            [-sx, sy, sz],
        ]
    ) + np.asarray(center)
    faces: list[tuple[int, ...]] = [
        (0, 3, 2, 1),
        (4, 5, 6, 7),
        (0, 1, 5, 4),
        (1, 2, 6, 5),
        (2, 3, 7, 6),
        (3, 0, 4, 7),
    ]
    colors, parts = _uniform(len(faces), color, part)
    return Mesh(v, faces, colors, parts)


def cylinder(
    radius: float,
    height: float,
    center: tuple[float, float, float] = (0.0, 0.0, 0.0),
    segments: int = 12,
    axis: str = "z",
    color: tuple[float, float, float] = (0.5, 0.5, 0.5),
    part: str = "metal",
    top_radius: float | None = None,
) -> Mesh:
    """A closed cylinder (or cone frustum if `top_radius` differs) along `axis`, centred on `center`."""
    r1 = radius if top_radius is None else top_radius
    ang = np.linspace(0, 2 * np.pi, segments, endpoint=False)
    ring = np.stack([np.cos(ang), np.sin(ang)], axis=1)
    bottom = np.column_stack([ring * radius, np.full(segments, -height / 2)])
    top = np.column_stack([ring * r1, np.full(segments, height / 2)])
    v = np.concatenate([bottom, top])
    faces: list[tuple[int, ...]] = [
        (i, (i + 1) % segments, segments + (i + 1) % segments, segments + i) for i in range(segments)
    ]
    faces.append(tuple(range(segments - 1, -1, -1)))
    faces.append(tuple(range(segments, 2 * segments)))
    if axis == "x":
        v = v[:, [2, 0, 1]]
    elif axis == "y":
        v = v[:, [1, 2, 0]]
    colors, parts = _uniform(len(faces), color, part)
    return Mesh(v + np.asarray(center), faces, colors, parts)
