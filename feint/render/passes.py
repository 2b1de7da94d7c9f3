"""Reading a render back: the multilayer EXR Blender wrote, as numpy passes (no Blender needed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import OpenEXR


@dataclass
class RenderPasses:
    """Raw render output: linear RGB (H, W, 3), object index (H, W) int, camera depth (H, W) metres."""

    rgb: np.ndarray
    index: np.ndarray
    depth: np.ndarray


def read_passes(path: Path) -> RenderPasses:
    channels: dict[str, np.ndarray] = {}
    with OpenEXR.File(str(path)) as exr:
        for part in exr.parts:
            for name, channel in part.channels.items():
                channels[name] = np.array(channel.pixels)
    rgb = channels["ViewLayer.Combined"][..., :3].astype(np.float32)
    index = np.rint(channels["ViewLayer.Object Index.X"]).astype(np.int32)
    depth = channels["ViewLayer.Depth.Z"].astype(np.float32)
    return RenderPasses(rgb, index, depth)
