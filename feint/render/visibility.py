"""How much of an object shows: its visible pixels against its whole silhouette.

The object-index pass says which pixels an object covers in the picture, not how much of it is hidden.
A bottle behind its neighbours or cut by the frame edge may show 30 pixels of a 2,000-pixel silhouette: a
fragment no annotator would box. The whole silhouette comes from geometry, without rendering: the mesh's
vertices projected through the pinhole camera Blender renders with (horizontal sensor fit, no lens
shift), and the area of their convex hull in pixels, unclipped by the frame (so both occlusion and
truncation count). For the thin-walled, near-convex shapes feint builds (bottles, hulls) the hull
overstates the silhouette by a few per cent; visibility is capped at 1.

Pure numpy (no Blender): the worker passes the matrices Blender holds.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import ConvexHull, QhullError


def silhouette_area(
    vertices: np.ndarray,
    object_matrix: np.ndarray,
    camera_matrix: np.ndarray,
    focal_length: float,
    sensor_width: float,
    width: int,
    height: int,
) -> float | None:
    """Pixels inside the convex hull of `vertices` (object coordinates, (N, 3)) seen by the camera at
    `camera_matrix` (4x4 camera-to-world; it looks down its -z, +y up) rendering `width` x `height`.

    None when any vertex lies behind the camera (the hull of a projection through the camera's plane
    means nothing); 0 when the mesh is empty or projects onto a line (a flat part seen edge on)."""
    if len(vertices) == 0:
        return 0.0
    homogeneous = np.column_stack([vertices, np.ones(len(vertices))])
    in_camera = homogeneous @ object_matrix.T @ np.linalg.inv(camera_matrix).T
    depth = -in_camera[:, 2]
    if (depth <= 1e-6).any():
        return None
    pixels_per_unit = focal_length / sensor_width * width  # horizontal sensor fit
    xs = width / 2 + pixels_per_unit * in_camera[:, 0] / depth
    ys = height / 2 - pixels_per_unit * in_camera[:, 1] / depth
    try:
        return float(ConvexHull(np.column_stack([xs, ys])).volume)  # a 2-D hull's volume is its area
    except QhullError:  # fewer than three points off one line
        return 0.0


def visible_fraction(shown_px: int, silhouette_px: float | None) -> float | None:
    """The share of the whole silhouette that shows, in [0, 1]; None when the silhouette is unknown."""
    if silhouette_px is None or silhouette_px <= 0:
        return None
    return min(1.0, shown_px / silhouette_px)
