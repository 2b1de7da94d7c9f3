"""Thumbnails: decoded once at a small size, cached as JPEG in the app's work folder.

A grid page of 100 images would otherwise decode 100 full-size photos per page; the cache key is the file's
real path, byte size and modification time (as the feature cache's), so an edited image gets a new thumbnail.
"""

from __future__ import annotations

import hashlib
import os
from io import BytesIO
from pathlib import Path

from PIL import Image

from feint.io import write_bytes_atomic

SIZES = (96, 192, 384)


def thumbnail(image: Path, size: int, cache: Path) -> Path:
    """The cached thumbnail (longest side `size`, one of SIZES) of `image`, made on first use."""
    size = min(SIZES, key=lambda s: abs(s - size))
    st = os.stat(image)
    key = hashlib.blake2b(
        f"{os.path.realpath(image)}\x00{st.st_size}\x00{st.st_mtime_ns}\x00{size}".encode(), digest_size=12
    ).hexdigest()
    out = cache / key[:2] / f"{key}.jpg"
    if out.is_file():
        return out
    with Image.open(image) as opened:
        opened.draft("RGB", (size, size))  # JPEG: decode at a reduced scale, several times faster
        small = opened.convert("RGB")
    small.thumbnail((size, size), Image.Resampling.BILINEAR)
    buffer = BytesIO()
    small.save(buffer, "JPEG", quality=85)
    write_bytes_atomic(out, buffer.getvalue())
    return out
