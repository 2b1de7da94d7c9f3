"""The Datasets page: renders and photos of any format `feint data` reads.

`/dataset?path=` is one page; its parts ask for JSON: a page of the filtered grid, one image's detail, its
masks as a transparent PNG, a histogram of a field per class (SVG) and a few images per class of this
dataset beside another. Filters travel as `f.<field>=value` (repeated for several values) or
`f.<field>=low..high` query parameters, the same in the page's URL and in its requests, so a view can be
shared. Every request reads the cached index (dataset_index.py): paging 100,000 images stays a slice.
"""

from __future__ import annotations

import io
import threading
from typing import Any

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from feint.datasets.formats._common import plain
from feint.datasets.preview import PALETTE
from feint.errors import FeintError
from feint.ui import catalog
from feint.ui.dataset_index import DatasetIndex, dataset_index
from feint.ui.web import checked, page, roots

router = APIRouter()
PER_PAGE = 60
SHOWN_APART = ("file", "class", "label", "group", "source", "split", "width", "height")  # the detail's header
_drawing = threading.Lock()  # matplotlib's settings are global: one histogram is drawn at a time


@router.get("/datasets", response_class=HTMLResponse)
def datasets_list(request: Request) -> HTMLResponse:
    entries = [e for e in catalog.scan(roots(request)) if e.kind == "dataset"]
    return page(request, "list.html", title="Datasets", entries=entries, link="/dataset")


@router.get("/dataset", response_class=HTMLResponse)
def dataset_page(request: Request, path: str) -> HTMLResponse:
    """The page: its summary (classes, colours, fields to filter on) is in the HTML; images come as JSON."""
    real = checked(request, path)
    try:
        index = dataset_index(real)
    except FeintError as err:
        return page(request, "dataset.html", title=real.name, error=str(err))
    return page(request, "dataset.html", title=real.name, info=_summary(index))


def _summary(index: DatasetIndex) -> dict[str, Any]:
    return {
        "path": str(index.path),
        "name": index.path.name,
        "format": index.format,
        "total": len(index),
        "classes": index.classes,
        "colours": [_hex(k) for k in range(len(index.classes))],
        "boxes": bool(len(index.boxes)),
        "masks": index.any_masks(),
        "fields": [f.as_json() for f in index.fields().values()],
    }


def _hex(position: int) -> str:
    return "#{:02x}{:02x}{:02x}".format(*PALETTE[position % len(PALETTE)])


def _filters(request: Request) -> dict[str, list[str]]:
    """`f.<field>` query parameters: field -> the values given."""
    found: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key.startswith("f.") and len(key) > 2:
            found.setdefault(key[2:], []).append(value)
    return found


def _index(request: Request, path: str) -> DatasetIndex:
    return dataset_index(checked(request, path))


@router.get("/api/dataset/images")
def images(request: Request, path: str, page: int = 1, per: int = PER_PAGE) -> dict[str, Any]:
    """One page of the filtered images, with what the grid draws over each (boxes; whether it has masks)."""
    index = _index(request, path)
    rows = index.select(_filters(request))
    per = max(1, min(per, 500))
    pages = max(1, -(-len(rows) // per))
    page = max(1, min(page, pages))
    shown = rows[(page - 1) * per : page * per]
    return {
        "total": len(index),
        "matched": len(rows),
        "page": page,
        "pages": pages,
        "items": _items(request, index, shown),
    }


def _items(
    request: Request, index: DatasetIndex, rows: np.ndarray, classes: list[str] | None = None
) -> list[dict[str, Any]]:
    """What the page draws for `rows`: file, class, size, boxes (class as its position in `classes`,
    default the index's own; -1 where absent), whether masks exist, and whether the file may be shown."""
    frame = index.frame
    files = frame["file"].to_numpy()[rows]
    labels = frame["class"].to_numpy()[rows]
    widths, heights = frame["width"].to_numpy()[rows], frame["height"].to_numpy()[rows]
    masks = index.has_masks(rows)
    allows = roots(request).allows
    position = list(range(len(index.classes)))
    if classes is not None:
        position = [classes.index(c) if c in classes else -1 for c in index.classes]
    return [
        {
            "i": int(i),
            "file": str(files[k]),
            "class": None if labels[k] is None else str(labels[k]),
            "w": plain(widths[k]),
            "h": plain(heights[k]),
            "boxes": [
                [round(v, 1) for v in box[:4]] + [position[box[4]]] for box in index.image_boxes(int(i))
            ],
            "masks": bool(masks[k]),
            "ok": allows(str(files[k])),
        }
        for k, i in enumerate(rows)
    ]


def _row(index: DatasetIndex, i: int) -> int:
    if not 0 <= i < len(index):
        raise FeintError(f"{index.path}: no image {i} (the dataset has {len(index)})")
    return i


@router.get("/api/dataset/image")
def image(request: Request, path: str, i: int) -> dict[str, Any]:
    """Everything known about image `i`: labels, boxes, file, group, split, source and every field."""
    index = _index(request, path)
    row = index.frame.iloc[_row(index, i)]
    values = {str(k): plain(v) for k, v in row.items()}
    item = _items(request, index, np.array([i]))[0]
    return {
        **item,
        "group": values["group"],
        "split": values["split"],
        "source": values["source"],
        "fields": [[k, _exact(v)] for k, v in values.items() if k not in SHOWN_APART and v is not None],
    }


def _exact(value: Any) -> Any:
    """A whole number beyond what a JavaScript number holds exactly (a render seed) as text."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
        return str(value)
    return value


@router.get("/api/dataset/masks")
def masks(request: Request, path: str, i: int, size: int = 384) -> Response:
    """Image `i`'s masks in their classes' colours on a transparent PNG (at most `size` px on a side)."""
    from PIL import Image
    from pycocotools import mask as mask_utils

    from feint.datasets.formats.coco import _mask

    index = _index(request, path)
    width, height = (int(index.frame[c].iat[_row(index, i)]) for c in ("width", "height"))
    paint = np.zeros((height, width, 4), dtype=np.uint8)
    for segmentation, position in index.image_masks(i):
        rle = _mask(segmentation, height, width, f"{index.path}: image {i}")
        if rle is None:
            continue
        inside = mask_utils.decode({"size": rle["size"], "counts": rle["counts"].encode("ascii")}).astype(
            bool
        )
        paint[inside] = (*PALETTE[position % len(PALETTE)], 100)
    picture = Image.fromarray(paint, "RGBA")
    picture.thumbnail((max(16, min(size, 1024)),) * 2, Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, "PNG")
    return Response(
        buffer.getvalue(), media_type="image/png", headers={"Cache-Control": "private, max-age=600"}
    )


@router.get("/api/dataset/histogram")
def histogram(request: Request, path: str, field: str) -> Response:
    """A histogram of `field` over the filtered images, stacked by class (one colour per class), as SVG."""
    index = _index(request, path)
    fields = index.fields()
    if field not in fields:
        raise FeintError(f"{index.path}: no field {field!r} to plot (fields: {', '.join(fields)})")
    rows = index.select(_filters(request))
    if not len(rows):
        raise FeintError("no image matches the filters: nothing to plot")
    codes, names = index.codes("class")
    return Response(_histogram_svg(index, field, rows, codes[rows], names), media_type="image/svg+xml")


def _histogram_svg(
    index: DatasetIndex, field: str, rows: np.ndarray, codes: np.ndarray, names: list[str]
) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # no pyplot: its global state is not safe across request threads

    colour = {c: _hex(k) for k, c in enumerate(index.classes)}
    present = [k for k in range(len(names)) if (codes == k).any()]
    labels = [names[k] for k in present]
    colours = [colour.get(name, "#9e9e9e") for name in labels]
    figure = Figure(figsize=(8.6, 3.6), layout="constrained")
    axes = figure.add_subplot()
    if index.fields()[field].kind == "range":
        values = index.frame[field].to_numpy(dtype=np.float64, na_value=np.nan)[rows]
        series = [values[(codes == k) & ~np.isnan(values)] for k in present]
        axes.hist(
            series, bins=30, stacked=True, color=colours, label=labels, edgecolor="#37474f", linewidth=0.3
        )
    else:
        value_codes, values = index.codes(field)
        picked = value_codes[rows]
        bottom = np.zeros(len(values))
        for k, name, tint in zip(present, labels, colours, strict=True):
            counts = np.bincount(picked[codes == k], minlength=len(values)).astype(float)
            axes.bar(
                values, counts, bottom=bottom, color=tint, label=name, edgecolor="#37474f", linewidth=0.3
            )
            bottom += counts
        axes.tick_params(axis="x", labelrotation=30 if len(values) > 6 else 0)
    axes.set_xlabel(field)
    axes.set_ylabel("images")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False, fontsize=9)
    buffer = io.StringIO()
    # Text as text (smaller, and the page can read it). rcParams are global: two requests drawing at once
    # would restore each other's settings, so drawings take turns.
    with _drawing, matplotlib.rc_context({"svg.fonttype": "none"}):
        figure.savefig(buffer, format="svg")
    return buffer.getvalue()


@router.get("/api/dataset/compare")
def compare(request: Request, path: str, other: str, n: int = 6) -> dict[str, Any]:
    """Per class both datasets have: `n` images of this one (filtered) and `n` of the other, picked evenly
    through each class's images (the same pick every time)."""
    index = _index(request, path)
    second = _index(request, other)
    n = max(1, min(n, 24))
    mine = index.select(_filters(request))
    theirs = np.arange(len(second))
    shared = [c for c in index.classes if c in set(second.classes)]
    rows = []
    for name in shared:
        a, b = _pick(index, mine, name, n), _pick(second, theirs, name, n)
        if len(a) and len(b):
            rows.append(
                {
                    "class": name,
                    "a": _items(request, index, a),
                    "b": _items(request, second, b, index.classes),
                }
            )
    return {
        "a": {"name": index.path.name, "kind": _kind(index)},
        "b": {"name": second.path.name, "kind": _kind(second), "path": str(second.path)},
        "classes": rows,
    }


def _pick(index: DatasetIndex, rows: np.ndarray, name: str, n: int) -> np.ndarray:
    codes, names = index.codes("class")
    if name not in names:
        return rows[:0]
    of_class = rows[codes[rows] == names.index(name)]
    if len(of_class) <= n:
        return of_class
    return of_class[np.linspace(0, len(of_class) - 1, n).round().astype(int)]


def _kind(index: DatasetIndex) -> str:
    """ "renders", "photos" or "images" (both), from the images' source."""
    sources = set(index.frame["source"].dropna().unique())
    if sources == {"synthetic"}:
        return "renders"
    if sources == {"real"}:
        return "photos"
    return "images"
