"""Geometry modifiers applied to any asset mesh (the 'warp' of surface variation)."""

from __future__ import annotations

import numpy as np

from feint.assets.mesh import Mesh


def warp(mesh: Mesh, amount: float, seed: int) -> Mesh:
    """Bend (hogging/sagging) and twist the mesh along its length; `amount` 1 is a strong, visible warp.

    Real hulls are straight, but photos show them through lenses, heat shimmer and swell; small bends
    keep a classifier from keying on perfectly straight sheer lines.
    """
    if amount <= 0 or len(mesh.vertices) == 0:
        return mesh
    rng = np.random.default_rng(seed)
    lo, hi = mesh.bounds
    length = max(hi[0] - lo[0], 1e-6)
    u = (mesh.vertices[:, 0] - (lo[0] + hi[0]) / 2) / (length / 2)  # -1 stern .. 1 bow
    v = mesh.vertices.copy()
    bend = amount * rng.uniform(-0.03, 0.03) * length
    v[:, 2] += bend * (1 - u**2)
    twist = amount * rng.uniform(-0.08, 0.08) * u
    y, z = v[:, 1].copy(), v[:, 2].copy()
    v[:, 1] = y * np.cos(twist) - z * np.sin(twist)
    v[:, 2] = y * np.sin(twist) + z * np.cos(twist)
    v[:, 1] += amount * rng.uniform(-0.01, 0.01) * length * (1 - u**2)
    return Mesh(v, list(mesh.faces), mesh.face_colors.copy(), mesh.face_parts.copy())
