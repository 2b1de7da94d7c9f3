"""Counts per class/split/source, image sizes, boxes per image and box sizes, as a dict and as text."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from feint.datasets.core import Dataset

NONE = "(none)"


def _quantiles(values: np.ndarray) -> dict[str, float]:
    if not len(values):
        return {}
    q = np.percentile(values, [0, 5, 50, 95, 100])
    return {k: round(float(v), 1) for k, v in zip(("min", "p5", "median", "p95", "max"), q, strict=True)}


def _table(rows: list[Any], cols: list[Any]) -> dict[str, dict[str, int]]:
    return {r: {c: 0 for c in cols} for r in rows}


def dataset_stats(dataset: Dataset) -> dict[str, Any]:
    records = dataset.records
    classes = list(dataset.classes) + ([NONE] if any(r.primary_class is None for r in records) else [])
    splits = dataset.splits + ([NONE] if dataset.splits and any(r.split is None for r in records) else [])
    sources = sorted({r.source for r in records})

    per_class = _table(classes, (splits or ["images"]) + (sources if len(sources) > 1 else []))
    for r in records:
        row = per_class[r.primary_class or NONE]
        row[(r.split or NONE) if splits else "images"] += 1
        if len(sources) > 1:
            row[r.source] += 1

    box_counts = Counter(c for r in records for c in r.box_labels)
    if box_counts:  # a detection dataset: boxes per class next to images per class
        for c, row in per_class.items():
            row["boxes"] = box_counts.get(c, 0)

    sizes = Counter(f"{r.width}x{r.height}" for r in records)
    widths = np.array([r.width for r in records if r.width], dtype=np.float64)
    heights = np.array([r.height for r in records if r.height], dtype=np.float64)
    out: dict[str, Any] = {
        "images": len(records),
        "groups": len({r.group for r in records}),
        "classes": len(dataset.classes),
        "per_class": per_class,
        "per_split": {s: sum(1 for r in records if (r.split or NONE) == s) for s in splits},
        "per_source": {s: sum(1 for r in records if r.source == s) for s in sources},
        "image_sizes": {
            "distinct": len(sizes),
            "most_common": dict(sizes.most_common(5)),
            "width": _quantiles(widths),
            "height": _quantiles(heights),
        },
    }
    n_boxes = np.array([len(r.boxes) for r in records])
    if n_boxes.sum():
        boxes = np.concatenate([r.boxes for r in records if len(r.boxes)])
        w, h = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
        # Every format that holds boxes knows its images' sizes (YOLO's are read off the files).
        img_area = np.concatenate(
            [np.full(len(r.boxes), float((r.width or 0) * (r.height or 0))) for r in records if len(r.boxes)]
        )
        area = w * h
        out["boxes"] = {
            "total": int(n_boxes.sum()),
            "per_image": {str(k): int(v) for k, v in sorted(Counter(n_boxes.tolist()).items())},
            "images_without_boxes": int((n_boxes == 0).sum()),
            "width_px": _quantiles(w),
            "height_px": _quantiles(h),
            "area_fraction_of_image": {
                k: round(v / 100, 3)
                for k, v in _quantiles(100 * area[img_area > 0] / img_area[img_area > 0]).items()
            },
            "coco_size": {
                "small (<32²)": int((area < 32**2).sum()),
                "medium": int(((area >= 32**2) & (area < 96**2)).sum()),
                "large (>=96²)": int((area >= 96**2).sum()),
            },
        }
    return out


def format_stats(stats: dict[str, Any], name: str) -> str:
    """A compact, readable report of `dataset_stats`."""
    lines = [f"{name}: {stats['images']} images, {stats['classes']} classes, {stats['groups']} groups"]
    per_class = stats["per_class"]
    cols = list(next(iter(per_class.values())).keys()) if per_class else []
    width = max([len("class")] + [len(c) for c in per_class])
    head = "".join(f"{c:>10}" for c in cols)
    lines.append(f"  {'class':<{width}}{head}")
    for c, row in per_class.items():
        lines.append(f"  {c:<{width}}" + "".join(f"{row[k]:>10}" for k in cols))
    if len(cols) > 1:
        totals = {k: sum(row[k] for row in per_class.values()) for k in cols}
        lines.append(f"  {'total':<{width}}" + "".join(f"{totals[k]:>10}" for k in cols))
    if stats["per_source"]:
        lines.append("  sources: " + ", ".join(f"{k} {v}" for k, v in stats["per_source"].items()))
    sizes = stats["image_sizes"]
    lines.append(
        f"  image sizes: {sizes['distinct']} distinct; most common "
        + ", ".join(f"{k} ({v})" for k, v in sizes["most_common"].items())
    )
    if sizes["width"]:
        lines.append(f"  width px {_q(sizes['width'])}; height px {_q(sizes['height'])}")
    boxes = stats.get("boxes")
    if boxes:
        lines.append(
            f"  boxes: {boxes['total']} ({boxes['images_without_boxes']} images without boxes); "
            "per image " + ", ".join(f"{k}: {v}" for k, v in boxes["per_image"].items())
        )
        lines.append(f"  box width px {_q(boxes['width_px'])}; height px {_q(boxes['height_px'])}")
        lines.append(
            f"  box area / image area {_q(boxes['area_fraction_of_image'])}; COCO sizes "
            + ", ".join(f"{k} {v}" for k, v in boxes["coco_size"].items())
        )
    else:
        lines.append("  boxes: none")
    return "\n".join(lines)


def _q(q: dict[str, float]) -> str:
    return f"min {q['min']:g} / median {q['median']:g} / max {q['max']:g}"
