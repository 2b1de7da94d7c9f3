"""Image files: sizes from headers, full decode checks, and unique names for exported layouts."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from feint.errors import FeintError

T = TypeVar("T")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def header_size(path: Path, where: str = "") -> tuple[int, int]:
    """(width, height) from the file header only (fast); a clear error for a missing or unreadable image."""
    from PIL import Image, UnidentifiedImageError

    prefix = f"{where}: " if where else ""
    try:
        with Image.open(path) as img:
            return img.size
    except FileNotFoundError:
        raise FeintError(f"{prefix}image {path} not found") from None
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise FeintError(f"{prefix}{path}: not a readable image ({err})") from None


def _in_chunks(fn: Callable[..., T], *columns: Sequence[Any]) -> list[T]:
    """fn over rows, a few threads each taking a contiguous chunk (file I/O and decoding release the GIL)."""
    n = len(columns[0])
    workers = max(1, min(8, (os.cpu_count() or 1) * 2, n // 64))
    bounds = [n * k // workers for k in range(workers + 1)]

    def run(k: int) -> list[T]:
        return [fn(*(c[i] for c in columns)) for i in range(bounds[k], bounds[k + 1])]

    if workers == 1:
        return run(0)
    with ThreadPoolExecutor(workers) as pool:
        return [x for part in pool.map(run, range(workers)) for x in part]


def header_sizes(paths: Sequence[Path], where: Sequence[str] | None = None) -> list[tuple[int, int]]:
    return _in_chunks(header_size, paths, where or [""] * len(paths))


def decode_check(path: Path, expected: tuple[int | None, int | None] = (None, None)) -> str | None:
    """Decode the whole image; the problem in words (corrupt, truncated, size differs), or None if fine."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            size = img.size
    except FileNotFoundError:
        return "not found"
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        return f"corrupt or truncated image ({err})"
    w, h = expected
    if w is not None and h is not None and (w, h) != size:
        return f"image is {size[0]}x{size[1]} but the labels say {w}x{h}"
    return None


def check_images(paths: Sequence[Path], sizes: Sequence[tuple[int | None, int | None]] | None = None) -> None:
    """Decode every image (threads: decoding releases the GIL); raise naming the first bad file."""
    problems = _in_chunks(decode_check, paths, sizes or [(None, None)] * len(paths))
    bad = [(p, msg) for p, msg in zip(paths, problems, strict=True) if msg]
    if bad:
        more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
        raise FeintError(f"{bad[0][0]}: {bad[0][1]}{more}")


def unique_names(paths: Sequence[Path], stems_unique: bool = False) -> list[str]:
    """A file name per image for a flat folder: the base name, made unique by its parent folders if needed.

    With `stems_unique`, names differ even without extension (YOLO pairs images/x.jpg with labels/x.txt).
    """

    def key(name: str) -> str:
        return Path(name).stem if stems_unique else name

    names = [p.name for p in paths]
    counts: dict[str, int] = {}
    for n in names:
        counts[key(n)] = counts.get(key(n), 0) + 1
    taken: set[str] = set()
    out = []
    for p, n in zip(paths, names, strict=True):
        if counts[key(n)] > 1:
            n = "__".join(p.parts[-3:]) if len(p.parts) >= 3 else n
        base, suffix, k = Path(n).stem, Path(n).suffix, 1
        while key(n) in taken:
            k += 1
            n = f"{base}-{k}{suffix}"
        taken.add(key(n))
        out.append(n)
    return out


def relative_to(path: Path, folder: Path) -> str:
    """`path` as written into files stored in `folder`: relative (portable when both move together).

    Both sides are resolved first, so a symlinked folder on the way cannot make `..` point elsewhere.
    """
    try:
        return Path(os.path.relpath(os.path.realpath(path), _real_folder(str(folder)))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(os.path.realpath(path)).as_posix()


@lru_cache(maxsize=256)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)
