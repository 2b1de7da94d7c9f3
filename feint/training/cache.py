"""Decode once, reuse everywhere: memory-mapped stores of resized images and of backbone features.

A store is a folder of shards (`<id>.npy` rows + `<id>.json` listing the image key of every row). A
row is looked up by the image's key (its real path, byte size and modification time), so any subset,
split or mix of images already seen (by any earlier run, in any order) costs nothing; only new images
are computed, into a new shard. Shards are written under a temporary name and renamed, and the key list
is written last, so a reader (or a parallel run) never sees a half-written shard.

    images = image_rows(data.paths, size=224)             # (N, 224, 224, 3) uint8, memory-mapped
    feats = feature_rows(data.paths, "efficientnet_lite0", 224)   # (N, 1280) float32
    found, rows = cached_feature_rows(paths, "efficientnet_lite0", 224)   # read only: what is there
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from feint.errors import FeintError
from feint.io import write_text_atomic

if TYPE_CHECKING:
    from feint.training.backbones import BackboneSpec

CACHE_VERSION = 1


def cache_root(cache: str | Path | None = None) -> Path:
    """The cache folder: `cache` if given, else $FEINT_CACHE, else ~/.cache/feint."""
    if cache is not None:
        return Path(cache)
    return Path(os.environ.get("FEINT_CACHE") or Path.home() / ".cache" / "feint")


def image_key(path: Path) -> str:
    """Identity of an image file: real path, size and modification time (a changed file gets a new key)."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise FeintError(f"image {path} not found") from None
    text = f"{os.path.realpath(path)}\x00{st.st_size}\x00{st.st_mtime_ns}"
    return hashlib.blake2b(text.encode(), digest_size=12).hexdigest()


class Rows:
    """Rows gathered from several memory-mapped shards; `rows[i]` reads one, `np.asarray(rows)` all."""

    def __init__(self, shards: list[np.ndarray], where: np.ndarray) -> None:
        self.shards = shards
        self.where = where  # (N, 2): shard index, row

    def __len__(self) -> int:
        return len(self.where)

    def __getitem__(self, i: int) -> np.ndarray:
        s, r = self.where[i]
        return self.shards[s][r]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:  # noqa: ANN001
        first = self.shards[0]
        out = np.empty((len(self), *first.shape[1:]), dtype=dtype or first.dtype)
        for s, shard in enumerate(self.shards):
            mine = np.flatnonzero(self.where[:, 0] == s)
            if len(mine):
                out[mine] = shard[self.where[mine, 1]]
        return out

    @property
    def shape(self) -> tuple[int, ...]:
        return (len(self), *self.shards[0].shape[1:])


class ArrayStore:
    """Rows of one shape and dtype keyed by image key, in shards under `folder`."""

    def __init__(self, folder: Path, row_shape: tuple[int, ...], dtype: str) -> None:
        self.folder = Path(folder)
        self.row_shape = tuple(row_shape)
        self.dtype = np.dtype(dtype)

    def _index(self) -> tuple[list[str], dict[str, tuple[int, int]]]:
        """Shard names and, for every key stored, (shard position, row)."""
        names: list[str] = []
        where: dict[str, tuple[int, int]] = {}
        for meta in sorted(self.folder.glob("*.json")):
            try:
                keys = json.loads(meta.read_text())["keys"]
            except (OSError, ValueError, KeyError):
                continue  # a damaged key list: its rows are computed again
            if not (self.folder / f"{meta.stem}.npy").is_file():
                continue
            for row, key in enumerate(keys):
                where.setdefault(key, (len(names), row))
            names.append(meta.stem)
        return names, where

    def get(self, keys: Sequence[str], compute: Callable[[list[int], np.ndarray], None]) -> Rows:
        """The rows of `keys`; missing ones are filled by `compute(positions, out)` into a new shard.

        `compute` receives the positions (into `keys`) of the missing rows and an array to fill, row j
        for position positions[j].
        """
        names, where = self._index()
        missing = [i for i, k in enumerate(keys) if k not in where]
        if missing:
            unique: dict[str, int] = {}
            for i in missing:
                unique.setdefault(keys[i], i)
            self._write_shard([keys[i] for i in unique.values()], list(unique.values()), compute)
            names, where = self._index()
        shards = [np.load(self.folder / f"{n}.npy", mmap_mode="r") for n in names]
        located = np.array([where[k] for k in keys], dtype=np.int64).reshape(-1, 2)
        return Rows(shards, located)

    def lookup(self, keys: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The rows of those `keys` already stored, computing and writing nothing: (positions into `keys`
        found, their rows). For a reader that must leave the cache as it is (`feint ui`)."""
        names, where = self._index()
        found = np.array([i for i, k in enumerate(keys) if k in where], dtype=np.int64)
        if not len(found):
            return found, np.empty((0, *self.row_shape), dtype=self.dtype)
        shards = [np.load(self.folder / f"{n}.npy", mmap_mode="r") for n in names]
        located = np.array([where[keys[i]] for i in found], dtype=np.int64).reshape(-1, 2)
        return found, np.asarray(Rows(shards, located), dtype=self.dtype)

    def _write_shard(
        self, keys: list[str], positions: list[int], compute: Callable[[list[int], np.ndarray], None]
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex[:16]
        tmp = self.folder / f".{name}.npy.tmp"
        try:
            out = np.lib.format.open_memmap(
                tmp, mode="w+", dtype=self.dtype, shape=(len(keys), *self.row_shape)
            )
            compute(positions, out)
            out.flush()
            del out
            os.replace(tmp, self.folder / f"{name}.npy")
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        write_text_atomic(self.folder / f"{name}.json", json.dumps({"keys": keys}))


def decode_image(path: Path, size: int, expected: tuple[int | None, int | None] = (None, None)) -> np.ndarray:
    """RGB uint8 (size, size, 3): the whole image resized (stretched) to a square, nothing cropped away.

    Real ship photos are already stretched object crops; a centre crop would cut bows and sterns.
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()
            if expected[0] is not None and expected[1] is not None and img.size != tuple(expected):
                raise FeintError(
                    f"{path}: image is {img.size[0]}x{img.size[1]} but the labels say "
                    f"{expected[0]}x{expected[1]}"
                )
            rgb = img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR, reducing_gap=3.0)
    except FileNotFoundError:
        raise FeintError(f"image {path} not found") from None
    except FeintError:
        raise
    except Exception as err:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        raise FeintError(f"{path}: corrupt or unreadable image ({err})") from None
    return np.asarray(rgb, dtype=np.uint8)


def image_rows(
    paths: Sequence[Path],
    size: int,
    cache: str | Path | None = None,
    sizes: Sequence[tuple[int | None, int | None]] | None = None,
    progress: bool = False,
) -> Rows:
    """Every image decoded and resized to size x size once, as uint8 rows of a memory-mapped store."""
    paths = [Path(p) for p in paths]
    sizes = list(sizes) if sizes is not None else [(None, None)] * len(paths)
    store = ArrayStore(
        cache_root(cache) / f"v{CACHE_VERSION}" / "images" / f"{size}px", (size, size, 3), "uint8"
    )

    def compute(positions: list[int], out: np.ndarray) -> None:
        from tqdm import tqdm

        def one(j: int) -> None:
            i = positions[j]
            out[j] = decode_image(paths[i], size, sizes[i])

        with ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1))) as pool:
            list(
                tqdm(
                    pool.map(one, range(len(positions))),
                    total=len(positions),
                    disable=not progress,
                    desc=f"decode {size}px",
                    unit="img",
                    leave=False,
                )
            )

    return store.get([image_key(p) for p in paths], compute)


def weights_key(spec: BackboneSpec) -> str:
    """Identity of a backbone's weights: architecture plus the weight file's size and modification time."""
    path = spec.weights_path()
    if path is None:
        raise FeintError(f"backbone {spec.name!r} has no weight file: no features to compute")
    st = os.stat(path)
    text = (
        f"{spec.arch}\x00{os.path.realpath(path)}\x00{st.st_size}\x00{st.st_mtime_ns}"
        f"\x00{spec.mean}{spec.std}"
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def feature_rows(
    paths: Sequence[Path],
    backbone: str | BackboneSpec,
    size: int,
    cache: str | Path | None = None,
    sizes: Sequence[tuple[int | None, int | None]] | None = None,
    batch: int = 64,
    progress: bool = False,
    device: str = "cpu",
    mirrored: bool = False,
) -> np.ndarray:
    """Pooled backbone features (N, D) float32 of every image, computed once per (image, backbone, size).

    `mirrored`: features of the left-right mirrored images (cached apart), the frozen mode's augmentation.
    On a CUDA `device` the backbone runs under torch.autocast (bfloat16, or float16 on cards without it);
    those features are cached apart from the float32 ones (`224px-bf16`), so a CPU run never reads them
    and its results never depend on where the cache was filled.
    """
    from feint.training.backbones import get_backbone_spec
    from feint.training.device import autocast_dtype

    spec = get_backbone_spec(backbone) if isinstance(backbone, str) else backbone
    images = image_rows(paths, size, cache, sizes, progress)
    amp = autocast_dtype(device)
    folder = _feature_folder(spec, size, cache, mirrored, "" if amp is None else _precision(amp))
    width = _feature_width(folder, spec)
    store = ArrayStore(folder, (width,), "float32")

    def compute(positions: list[int], out: np.ndarray) -> None:
        import torch
        from tqdm import tqdm

        from feint.training.backbones import create_backbone
        from feint.training.transforms import normalise

        # torch's `to` takes device and layout in one call, but its type stubs only one of them
        net = create_backbone(spec).eval().to(device).to(memory_format=torch.channels_last)
        reduced = torch.autocast("cuda", amp) if amp is not None else contextlib.nullcontext()
        with torch.inference_mode(), reduced:
            for start in tqdm(
                range(0, len(positions), batch),
                disable=not progress,
                unit="batch",
                desc=f"features {spec.name} {size}px",
                leave=False,
            ):
                chunk = positions[start : start + batch]
                x = torch.from_numpy(np.stack([images[i] for i in chunk])).permute(0, 3, 1, 2)
                if mirrored:
                    x = torch.flip(x, dims=[3])
                x = normalise(x.to(device).contiguous(memory_format=torch.channels_last), spec.mean, spec.std)
                out[start : start + len(chunk)] = net(x).float().cpu().numpy()

    rows = store.get([image_key(p) for p in paths], compute)
    return np.asarray(rows)


def cached_feature_rows(
    paths: Sequence[Path], backbone: str | BackboneSpec, size: int, cache: str | Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The backbone features `feature_rows` stored earlier for those of `paths` it has seen, read only:
    nothing is decoded, computed or written. Returns (positions into `paths` found, their (n, D) float32
    rows); a file that is gone, or was changed since, counts as not cached."""
    from feint.training.backbones import get_backbone_spec

    spec = get_backbone_spec(backbone) if isinstance(backbone, str) else backbone
    folder = _feature_folder(spec, size, cache, False)
    width = folder / "width.txt"  # written before the first shard: no width, no features
    if not width.is_file():
        return np.empty(0, dtype=np.int64), np.empty((0, 0), dtype=np.float32)
    keys: list[str] = []
    for path in paths:
        try:
            keys.append(image_key(Path(path)))
        except FeintError:
            keys.append("")  # no file, no key: never found
    return ArrayStore(folder, (int(width.read_text()),), "float32").lookup(keys)


def _feature_folder(
    spec: BackboneSpec, size: int, cache: str | Path | None, mirrored: bool, precision: str = ""
) -> Path:
    """Where the features of one backbone (its weights) at one input size are stored; `precision`: those
    computed under autocast ("bf16", "fp16"), kept apart from the float32 ones."""
    return (
        cache_root(cache)
        / f"v{CACHE_VERSION}"
        / "features"
        / f"{spec.name}-{weights_key(spec)}"
        / f"{size}px{'-mirrored' if mirrored else ''}{f'-{precision}' if precision else ''}"
    )


def _precision(dtype: Any) -> str:
    """The short name of an autocast dtype: "bf16" or "fp16"."""
    return {"torch.bfloat16": "bf16", "torch.float16": "fp16"}[str(dtype)]


def _feature_width(folder: Path, spec: BackboneSpec) -> int:
    """The backbone's feature width, remembered beside its features so a cache hit builds no model."""
    meta = folder / "width.txt"
    if meta.is_file():
        return int(meta.read_text())
    from feint.training.backbones import create_backbone, feature_width

    width = feature_width(create_backbone(spec, pretrained=False))
    write_text_atomic(meta, f"{width}\n")
    return width
