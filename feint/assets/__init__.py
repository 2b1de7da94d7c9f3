"""Assets: procedural meshes (ships, backgrounds, bottles and their sets) as plain numpy data, and the
user's model files.

`build_asset` is the one way a renderer turns an `AssetRef` with a builder name into a `Mesh`.
"""

from __future__ import annotations

import json

from feint.assets.mesh import Mesh
from feint.scene.description import AssetRef

#: Stand-in proportions (length : beam : height) for a model file whose size is only known to Blender.
MODEL_FILE_PROPORTIONS = (1.0, 1 / 6, 1 / 4)
DEFAULT_MODEL_LENGTH = 100.0


def build_asset(ref: AssetRef) -> Mesh:
    """The mesh of a procedural asset: a ship or bottle class, a background, a bottles set or prop.

    The last few meshes are kept: the sampler builds the main object to frame the camera on its extent
    (and each distractor vessel, to keep it clear of the ship) and the renderer then needs the very same
    meshes, so an image builds each once (meshes are never changed in place: a warp makes a new one)."""
    if ref.builder is None:
        raise ValueError("asset has no builder (it is a model file: the renderer imports it)")
    key = json.dumps([ref.builder, ref.params], sort_keys=True, default=repr)
    mesh = _RECENT.pop(key, None) or _build(ref)
    _RECENT[key] = mesh  # most recent last
    while len(_RECENT) > _KEEP:
        _RECENT.pop(next(iter(_RECENT)))
    return mesh


_KEEP = 8  # an image's objects: its ship, a backdrop, a ship alongside, distractors; a bottles set, props
_RECENT: dict[str, Mesh] = {}


def _build(ref: AssetRef) -> Mesh:
    from feint.assets.backgrounds import BACKGROUND_BUILDERS
    from feint.assets.bottles import get_bottle_builder, list_bottle_classes
    from feint.assets.bottles.sets import SET_BUILDERS
    from feint.assets.ships import get_ship_builder

    assert ref.builder is not None  # build_asset checked
    if ref.builder in BACKGROUND_BUILDERS:
        return BACKGROUND_BUILDERS[ref.builder](ref.params)
    if ref.builder in SET_BUILDERS:
        return SET_BUILDERS[ref.builder](ref.params)
    if ref.builder in list_bottle_classes():
        return get_bottle_builder(ref.builder).build(ref.params)
    return get_ship_builder(ref.builder).build(ref.params)


def asset_extent(ref: AssetRef) -> tuple[float, float, float]:
    """(length, beam, height above the waterline) in metres, used to frame the camera."""
    if ref.builder is None:
        length = ref.length or DEFAULT_MODEL_LENGTH
        return tuple(length * f for f in MODEL_FILE_PROPORTIONS)  # type: ignore[return-value]
    lo, hi = build_asset(ref).bounds
    return float(hi[0] - lo[0]), float(hi[1] - lo[1]), float(max(hi[2], 0.5))
