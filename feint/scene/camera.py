"""Aiming a camera, shared by every channel's sampler: where it stands is the channel's business (object
resolution for ships, a set's extent for bottles); how it looks at its target is the same for all."""

from __future__ import annotations

import numpy as np

from feint.scene.description import Camera

SENSOR_WIDTH_MM = 36.0  # a full-frame sensor: focal lengths mean what photographers expect


def view_axes(view: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The unit right and up vectors of the frame of a camera looking along unit `view` (z is up)."""
    right = np.cross(view, [0.0, 0.0, 1.0])
    right /= max(np.linalg.norm(right), 1e-9)
    return right, np.cross(right, view)


def aimed_camera(
    location: np.ndarray,
    target: np.ndarray,
    focal: float,
    aspect: float,
    aim: tuple[float, float],
    roll: float,
    clip_end: float = 1e5,
) -> Camera:
    """A camera at `location` looking at `target` moved by `aim` (x in frame widths, y in frame heights):
    the subject off-centre as in real photos, at the same distance so its size in the frame is kept."""
    view = target - location
    distance = float(np.linalg.norm(view))
    right, up = view_axes(view / max(distance, 1e-9))
    frame_w = distance * SENSOR_WIDTH_MM / focal
    look_at = target + frame_w * (aim[0] * right + aim[1] / aspect * up)
    return Camera(
        as_xyz(location),
        as_xyz(look_at),
        float(focal),
        SENSOR_WIDTH_MM,
        float(roll),
        clip_end=clip_end,
    )


def as_xyz(v: np.ndarray) -> tuple[float, float, float]:
    """A point or direction as the plain (x, y, z) floats a scene description holds."""
    return float(v[0]), float(v[1]), float(v[2])
