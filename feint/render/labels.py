"""Labels from pixels: COCO boxes and RLE masks read off the renderer's object-index pass."""

from __future__ import annotations

from typing import Any

import numpy as np
from pycocotools import mask as mask_utils


def annotation_from_mask(mask: np.ndarray, category: str) -> dict[str, Any] | None:
    """A COCO-style annotation (bbox [x, y, w, h] tight around the mask, area, RLE); None if empty."""
    if not mask.any():
        return None
    ys, xs = np.nonzero(mask)
    x0, y0, x1, y1 = int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle["counts"] = rle["counts"].decode("ascii")
    return {
        "category": category,
        "bbox": [x0, y0, x1 - x0, y1 - y0],
        "area": int(mask.sum()),
        "segmentation": {"size": [int(s) for s in rle["size"]], "counts": rle["counts"]},
        "iscrowd": 0,
    }
