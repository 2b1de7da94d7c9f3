"""The index the Datasets page pages, filters and plots: one row per image, its boxes, and the fields a user
can filter on, kept in memory while the dataset's label files are unchanged.

Why not `load_dataset(...).frame()` for everything: at 100,000 rendered images that takes about 11 s (a
`Record` per image, each file stat'ed, a dict per row); opening the page must take under 2 s. A feint render
folder is therefore read straight into pandas: annotations.json parsed once, its images and annotations
turned into columns and arrays, params.parquet joined on `index` (read in a second thread while the JSON is
parsed). The rows equal `Dataset.frame()` of the same folder (tests/ui/test_ui_datasets.py holds the two
together); what the fast path does not check is only what `feint data validate` would refuse (a missing
image shows as a broken thumbnail). Every other format is read by `load_dataset` as the CLI reads it.

Boxes are kept as one array with row offsets (a page of 60 images slices it), masks as their COCO
segmentations, turned into RLE only when an image's masks are drawn.
"""

from __future__ import annotations

import gc
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feint.datasets.core import RESERVED, Dataset
from feint.datasets.formats import detect_format, load_dataset
from feint.datasets.formats.coco import STANDARD_IMAGE_KEYS
from feint.datasets.images import is_image
from feint.errors import FeintError

CHOICES_MAX = 40  # a text field with more distinct values than this is not offered as a filter
NONE = "(none)"  # the choice standing for a missing value
NOT_FILTERS = ("file", "group", "label")  # identities and a repeat of `class`
FIRST = ("class", "split", "source")  # shown first among the filters
CACHED = 4  # indices kept in memory (the least recently used goes first)


@dataclass(frozen=True)
class Field:
    """A column a user can filter on: `kind` "range" (numbers: low..high) or "choice" (few values)."""

    name: str
    kind: str
    low: float | None = None
    high: float | None = None
    integer: bool = False
    values: tuple[str, ...] = ()
    counts: tuple[int, ...] = ()

    def as_json(self) -> dict[str, Any]:
        if self.kind == "range":
            return {
                "name": self.name,
                "kind": "range",
                "low": self.low,
                "high": self.high,
                "integer": self.integer,
            }
        return {"name": self.name, "kind": "choice", "values": list(self.values), "counts": list(self.counts)}


@dataclass
class DatasetIndex:
    """One dataset as the page needs it. Row `i` of `frame` is image `i`; its boxes are
    `boxes[box_start[i]:box_start[i + 1]]` with classes `classes[box_class[...]]`."""

    path: Path
    format: str
    classes: list[str]
    frame: pd.DataFrame
    box_start: np.ndarray
    boxes: np.ndarray
    box_class: np.ndarray
    masks: list[Any]  # per box: its COCO segmentation (RLE or polygons), or None
    _fields: dict[str, Field] | None = field(default=None, repr=False)
    _codes: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.frame)

    def image_boxes(self, i: int) -> list[tuple[float, float, float, float, int]]:
        """Image `i`'s boxes, xyxy pixels and the position of the box's class in `classes`."""
        lo, hi = int(self.box_start[i]), int(self.box_start[i + 1])
        corners, classes = self.boxes[lo:hi].tolist(), self.box_class[lo:hi].tolist()
        return [(x0, y0, x1, y1, c) for (x0, y0, x1, y1), c in zip(corners, classes, strict=True)]

    def image_masks(self, i: int) -> list[tuple[Any, int]]:
        """Image `i`'s masks that exist: (segmentation, class position)."""
        lo, hi = int(self.box_start[i]), int(self.box_start[i + 1])
        return [(self.masks[k], int(self.box_class[k])) for k in range(lo, hi) if _has_mask(self.masks[k])]

    def any_masks(self) -> bool:
        return any(_has_mask(m) for m in self.masks)

    def has_masks(self, rows: np.ndarray) -> np.ndarray:
        """For each of `rows`, whether it has at least one mask."""
        return np.array([bool(self.image_masks(int(i))) for i in rows], dtype=bool)

    def fields(self) -> dict[str, Field]:
        """The filterable columns (class, split and source first), computed once per index."""
        if self._fields is None:
            names = [c for c in FIRST if c in self.frame.columns]
            names += [str(c) for c in self.frame.columns if c not in FIRST and c not in NOT_FILTERS]
            found = (self._field(name) for name in names)
            self._fields = {f.name: f for f in found if f is not None}
        return self._fields

    def _field(self, name: str) -> Field | None:
        column = self.frame[name]
        if pd.api.types.is_bool_dtype(column) or not pd.api.types.is_numeric_dtype(column):
            return self._choice_field(name)
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        present = values[~np.isnan(values)]
        if not len(present) or present.min() == present.max():
            return None
        integer = bool(np.all(present == np.round(present)))
        distinct = pd.Series(present).nunique() if integer else 0
        if distinct == len(values):
            return None  # a whole number per image (an index, a seed): an identity, not a property
        if distinct == 2:
            return self._choice_field(name)  # a flag written as 0/1
        return Field(name, "range", float(present.min()), float(present.max()), integer)

    def _choice_field(self, name: str) -> Field | None:
        try:
            codes, values = self.codes(name)
        except TypeError:  # lists or dicts in a column: nothing to choose between
            return None
        if not 1 < len(values) <= CHOICES_MAX:
            return None
        counts = np.bincount(codes, minlength=len(values))
        return Field(name, "choice", values=tuple(values), counts=tuple(int(c) for c in counts))

    def codes(self, name: str) -> tuple[np.ndarray, list[str]]:
        """Column `name` as codes into its distinct values written as text (missing: "(none)")."""
        if name not in self._codes:
            codes, uniques = pd.factorize(self.frame[name], sort=True, use_na_sentinel=True)
            values = [_text(v) for v in uniques]
            if (codes < 0).any():
                codes = np.where(codes < 0, len(values), codes)
                values.append(NONE)
            self._codes[name] = (codes, values)
        return self._codes[name]

    def select(self, filters: dict[str, list[str]]) -> np.ndarray:
        """Row numbers kept by `filters` (field -> ["low..high"] for a range, else the values chosen)."""
        keep = np.ones(len(self), dtype=bool)
        fields = self.fields()
        for name, wanted in filters.items():
            if name not in fields:
                known = ", ".join(fields) or "none"
                raise FeintError(f"{self.path}: no field {name!r} to filter on (fields: {known})")
            if fields[name].kind == "range":
                keep &= self._in_range(name, wanted)
            else:
                codes, values = self.codes(name)
                keep &= np.isin(codes, [k for k, v in enumerate(values) if v in set(wanted)])
        return np.flatnonzero(keep)

    def _in_range(self, name: str, wanted: list[str]) -> np.ndarray:
        try:
            low, high = (float(v) for v in wanted[-1].split("..", 1))
        except ValueError:
            raise FeintError(f"filter {name}={wanted[-1]!r}: expected LOW..HIGH, two numbers") from None
        values = self.frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
        return (values >= low) & (values <= high)


def _text(value: Any) -> str:
    """A value as the page shows and sends it (booleans and numbers as Python writes them)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _has_mask(segmentation: Any) -> bool:
    return segmentation is not None and not (isinstance(segmentation, (list, dict)) and not segmentation)


# The indices in memory: real path -> (signature of its label files, index).
_cache: OrderedDict[Path, tuple[tuple[tuple[str, int, int], ...], DatasetIndex]] = OrderedDict()
_lock = threading.Lock()


def signature(path: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when the dataset's labels change: name, size and mtime of the dataset (its folder or
    file) and of what lies directly beside its labels but images (annotations.json, params.parquet,
    manifest.csv, data.yaml, classes.txt, class and label folders). Cheap enough to check on every request;
    a YOLO label file edited in place (its folder's mtime unchanged) is not seen until a restart."""
    folder = path if path.is_dir() else path.parent
    st = path.stat()
    found = [(path.name, st.st_size, st.st_mtime_ns)]
    with os.scandir(folder) as entries:
        for entry in entries:
            if not is_image(Path(entry.name)):
                st = entry.stat()
                found.append((entry.name, st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


def dataset_index(path: Path) -> DatasetIndex:
    """The index of the dataset at `path` (a real path), read on first use and again after its labels
    changed; the most recently used few stay in memory."""
    key = signature(path)
    with _lock:
        cached = _cache.get(path)
        if cached is not None and cached[0] == key:
            _cache.move_to_end(path)
            return cached[1]
        index = build_index(path)
        _cache[path] = (key, index)
        _cache.move_to_end(path)
        while len(_cache) > CACHED:
            _cache.popitem(last=False)
        return index


def build_index(path: Path) -> DatasetIndex:
    """The index of any dataset: a feint render folder read directly, other formats by `load_dataset`."""
    fmt = detect_format(path)
    if fmt == "feint" and path.is_dir():
        with _collector_paused():
            fast = _render_index(path)
        if fast is not None:
            return fast
    return _loaded_index(path, load_dataset(path, fmt), fmt)


def _loaded_index(path: Path, dataset: Dataset, fmt: str) -> DatasetIndex:
    counts = np.array([len(r.boxes) for r in dataset.records], dtype=np.int64)
    position = {c: k for k, c in enumerate(dataset.classes)}
    boxes = [r.boxes for r in dataset.records if len(r.boxes)]
    return DatasetIndex(
        path=path,
        format=fmt,
        classes=list(dataset.classes),
        frame=dataset.frame(),
        box_start=np.concatenate([[0], np.cumsum(counts)]),
        boxes=np.concatenate(boxes) if boxes else np.zeros((0, 4)),
        box_class=np.array([position[c] for r in dataset.records for c in r.box_labels], dtype=np.int64),
        masks=[
            (r.masks[k] if r.masks is not None else None)
            for r in dataset.records
            for k in range(len(r.boxes))
        ],
    )


def _render_index(folder: Path) -> DatasetIndex | None:
    """A feint render folder's index from its files (vectorised), or None where it holds something only
    the full loader reads (per-image `meta` objects, images without sizes)."""
    with ThreadPoolExecutor(1) as pool:
        params = pool.submit(_read_params, folder / "params.parquet")  # decoding parquet releases the GIL
        coco = _read_json(folder / "annotations.json")
        card = _read_json(folder / "dataset.json")
        table = params.result()
    images = pd.DataFrame(_objects(coco, "images", folder))
    if not len(images):
        raise FeintError(f"{folder / 'annotations.json'}: no images: the rendered dataset is empty")
    if "meta" in images.columns or images[["width", "height"]].isna().to_numpy().any():
        return None
    classes, category = _categories(coco, folder)
    order, counts = _annotation_rows(coco, images, category, folder)
    annotations = coco.get("annotations") or []
    sorted_rows = [annotations[k] for k in order]
    first = np.concatenate([[0], np.cumsum(counts)])
    class_of_box = np.array([category[a["category_id"]] for a in sorted_rows], dtype=np.int64)
    boxes = np.array([a["bbox"] for a in sorted_rows], dtype=np.float64).reshape(-1, 4)
    boxes[:, 2:] += boxes[:, :2]
    first_class = np.full(len(images), -1, dtype=np.int64)
    first_class[counts > 0] = class_of_box[first[:-1][counts > 0]]
    seed = card.get("seed") if isinstance(card, dict) else None
    frame = _render_frame(folder, images, table, classes, first_class, counts, seed)
    return DatasetIndex(
        path=folder,
        format="feint",
        classes=classes,
        frame=frame,
        box_start=first,
        boxes=boxes,
        box_class=class_of_box,
        masks=[a.get("segmentation") for a in sorted_rows],
    )


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while a render folder is read: parsing its JSON makes millions
    of objects, none of them cycles, and the collector would otherwise walk every object the server holds
    again and again (a third of the parse time in a busy process)."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_bytes())
    except FileNotFoundError:
        raise FeintError(f"{path}: no such file") from None
    except (ValueError, UnicodeDecodeError) as err:
        raise FeintError(f"{path}: invalid JSON ({err})") from None


def _read_params(path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        return None
    try:
        return pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a broken file
        raise FeintError(f"{path}: unreadable parquet file ({err})") from None


def _objects(coco: Any, key: str, folder: Path) -> list[dict[str, Any]]:
    value = coco.get(key) if isinstance(coco, dict) else None
    if not isinstance(value, list):
        raise FeintError(f"{folder / 'annotations.json'}: '{key}' must be a list of objects")
    return value


def _categories(coco: Any, folder: Path) -> tuple[list[str], dict[Any, int]]:
    """Class names in id order and each category id's position among them."""
    by_id: dict[int, str] = {}
    for k, category in enumerate(_objects(coco, "categories", folder)):
        cid, name = category.get("id"), category.get("name")
        if not isinstance(cid, int) or not isinstance(name, str):
            raise FeintError(
                f"{folder / 'annotations.json'}: categories[{k}]: needs a whole-number id and a name"
            )
        by_id[cid] = name
    ids = sorted(by_id)
    return [by_id[i] for i in ids], {i: k for k, i in enumerate(ids)}


def _annotation_rows(
    coco: Any, images: pd.DataFrame, category: dict[Any, int], folder: Path
) -> tuple[np.ndarray, np.ndarray]:
    """The annotations ordered by image (stable: file order within an image)
    and the number of boxes per image. An annotation naming an unknown image or class is an error."""
    annotations = coco.get("annotations") or []
    where = folder / "annotations.json"
    ids = pd.Index(images["id"])
    if not ids.is_unique:
        raise FeintError(f"{where}: an image id is used twice")
    row = ids.get_indexer([a.get("image_id") for a in annotations])
    if (row < 0).any():
        k = int(np.flatnonzero(row < 0)[0])
        raise FeintError(
            f"{where}: annotations[{k}]: image_id {annotations[k].get('image_id')!r} is not in 'images'"
        )
    unknown = [k for k, a in enumerate(annotations) if a.get("category_id") not in category]
    if unknown:
        raise FeintError(f"{where}: annotations[{unknown[0]}]: category_id out of range")
    order = np.argsort(row, kind="stable")
    return order, np.bincount(row, minlength=len(images))


def _render_frame(
    folder: Path,
    images: pd.DataFrame,
    params: pd.DataFrame | None,
    classes: list[str],
    first_class: np.ndarray,
    counts: np.ndarray,
    seed: Any,
) -> pd.DataFrame:
    """`Dataset.frame()` of a render folder, built a column at a time (text kept as Python objects: pandas'
    conversion to arrow strings would cost more than the rest)."""
    files = _files(folder, images["file_name"])
    names = np.array([*classes, None], dtype=object)
    label = _column(images, "class", None)
    label = np.where(pd.isna(label), names[first_class], label)
    columns = {
        "file": files,
        "class": label,
        "label": label,
        "group": _groups(images, files, seed),
        "source": _column(images, "source", "synthetic"),
        "split": _column(images, "split", None),
    }
    base = pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in columns.items()})
    base["width"] = images["width"].to_numpy()
    base["height"] = images["height"].to_numpy()
    base["n_boxes"] = counts
    meta = images[[c for c in images.columns if c not in STANDARD_IMAGE_KEYS]]
    meta = _with_params(meta, images, params)
    meta = meta.rename(columns={c: f"meta.{c}" for c in meta.columns if c in RESERVED})
    return pd.concat([base, meta], axis=1)


def _column(images: pd.DataFrame, name: str, default: Any) -> np.ndarray:
    if name not in images.columns:
        return np.full(len(images), default, dtype=object)
    values = images[name].to_numpy(dtype=object)
    return np.where(pd.isna(values), default, values)


def _files(folder: Path, names: pd.Series) -> np.ndarray:
    """Absolute image paths as the COCO reader resolves them: beside annotations.json, else in images/
    (decided on the first image: a render names every image the same way)."""
    text = names.to_numpy(dtype=object)
    first = str(text[0])
    beside = (folder / first).is_file() or not (folder / "images" / first).is_file()
    resolved = (str(folder if beside else folder / "images") + os.sep) + text
    if any(".." in name or "./" in name or "//" in name for name in text):
        return np.array([os.path.abspath(name) for name in resolved], dtype=object)  # as a Record does
    return resolved


def _groups(images: pd.DataFrame, files: np.ndarray, seed: Any) -> np.ndarray:
    """`syn-<seed>-<index>` unless an image names its own group (as load_feint assigns them)."""
    index = images["index"].fillna(images["id"]) if "index" in images.columns else images["id"]
    prefix = f"syn-{seed}-" if seed is not None else "syn-"
    if pd.api.types.is_integer_dtype(index):
        made = prefix + index.astype(str).to_numpy(dtype=object)
    else:
        made = np.array([prefix + _text(i) for i in index], dtype=object)
    if "group" not in images.columns:
        return made
    given = np.array([str(g) if isinstance(g, str) and g else "" for g in images["group"]], dtype=object)
    return np.where((given == "") | (given == files), made, given)


def _with_params(meta: pd.DataFrame, images: pd.DataFrame, params: pd.DataFrame | None) -> pd.DataFrame:
    """The images' own extra keys, then params.parquet's columns joined on `index` (or `file_name`); a
    value an image carries itself is replaced only where a row was found (as load_feint updates a record's
    metadata)."""
    if params is None or not len(params):
        return meta
    key = "index" if "index" in params.columns else "file_name" if "file_name" in params.columns else None
    if key is None or key not in images.columns:
        return meta
    table = params.drop_duplicates(key, keep="last").reset_index(drop=True)
    position = pd.Index(table[key]).get_indexer(images[key])
    found = position >= 0
    rows = table.drop(columns=[c for c in ("class", "file_name") if c in table.columns])
    rows = rows.take(position) if found.all() else rows.reindex(np.where(found, position, -1))
    rows = rows.reset_index(drop=True)
    for name in rows.columns:
        if name in meta.columns and not found.all():
            rows[name] = rows[name].where(found, meta[name])
    order = [*meta.columns, *(c for c in rows.columns if c not in meta.columns)]
    own = meta[[c for c in meta.columns if c not in rows.columns]]
    return pd.concat([own, rows], axis=1)[order]
