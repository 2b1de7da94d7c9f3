"""COCO JSON: categories, images, annotations (bbox [x, y, w, h] pixels, RLE or polygon masks).

`file_name` is resolved against the JSON's folder, then against `images/` beside it. Written files carry
categories with ids from 1 (never 0: no background category), every image (also those without objects),
masks as RLE with `counts` a str, and extra image keys that other COCO tools ignore: `class`, `group`,
`source`, `split` and `meta`, so nothing feint knows about an image is lost.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from feint.datasets.core import SOURCES, Dataset, Record
from feint.datasets.formats._common import FirstListed, is_default_group, place_image, plain, relative_files
from feint.datasets.images import header_sizes, unique_names
from feint.datasets.validate import check_box
from feint.errors import FeintError
from feint.io import write_json_atomic

STANDARD_IMAGE_KEYS = {
    "id",
    "file_name",
    "width",
    "height",
    "license",
    "date_captured",
    "coco_url",
    "flickr_url",
    "class",
    "group",
    "source",
    "split",
    "meta",
}


def read_json(path: Path) -> Any:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise FeintError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise FeintError(f"{path}: not a text (JSON) file") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FeintError(f"{path}: line {err.lineno}: invalid JSON ({err.msg})") from None


def _list(coco: dict[str, Any], key: str, path: Path, required: bool = True) -> list[dict[str, Any]]:
    value = coco.get(key)
    if value is None and not required:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise FeintError(f"{path}: '{key}' must be a list of objects")
    return value


def _mask(seg: Any, height: int, width: int, where: str) -> dict[str, Any] | None:
    """Any COCO segmentation (compressed RLE, uncompressed RLE, polygons) as compressed RLE, or None."""
    if seg is None or seg == [] or seg == {}:
        return None
    if isinstance(seg, dict) and isinstance(seg.get("counts"), str):
        size = [int(s) for s in seg.get("size", [])]
        if size != [height, width]:
            raise FeintError(
                f"{where}: segmentation size {size} is not the image's [height, width] [{height}, {width}]"
            )
        return {"size": size, "counts": seg["counts"]}
    from pycocotools import mask as mask_utils

    polygons = isinstance(seg, list) and all(
        isinstance(part, list) and len(part) >= 6 and len(part) % 2 == 0 for part in seg
    )
    if not (isinstance(seg, dict) or polygons):  # pycocotools crashes on these rather than saying why
        raise FeintError(
            f"{where}: unreadable segmentation (expected RLE or polygons of x, y pairs, got {str(seg)[:60]})"
        )
    try:
        if isinstance(seg, dict):  # uncompressed RLE: counts is a list of run lengths
            rle = mask_utils.frPyObjects(seg, height, width)
        else:  # polygons: one list of x, y, x, y ... per part
            rle = mask_utils.merge(mask_utils.frPyObjects(seg, height, width))
    except (TypeError, ValueError, IndexError, KeyError) as err:
        raise FeintError(f"{where}: unreadable segmentation ({err})") from None
    return {"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")}


def _int_id(value: Any, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or int(value) != value:
        raise FeintError(f"{where}: '{key}' must be a whole number, got {value!r}")
    return int(value)


def coco_records(
    json_path: Path, coco: Any, source: str = "real"
) -> tuple[list[str], list[Record], list[dict[str, Any]]]:
    """Records from a parsed COCO dict; also returns the class names and the raw image entries in order."""
    if not isinstance(coco, dict):
        raise FeintError(f"{json_path}: expected a COCO object with 'images', 'annotations', 'categories'")
    categories = _list(coco, "categories", json_path)
    images = _list(coco, "images", json_path)
    annotations = _list(coco, "annotations", json_path, required=False)
    folder = json_path.parent

    names: dict[int, str] = {}
    for k, cat in enumerate(categories):
        where = f"{json_path}: categories[{k}]"
        cid = _int_id(cat.get("id"), where, "id")
        name = cat.get("name")
        if not isinstance(name, str) or not name:
            raise FeintError(f"{where}: 'name' must be a non-empty string")
        if cid in names:
            raise FeintError(f"{where}: category id {cid} used twice")
        if name in names.values():
            raise FeintError(f"{where}: category name {name!r} used twice")
        names[cid] = name
    classes = [names[i] for i in sorted(names)]

    records: list[Record] = []
    index_of: dict[int, int] = {}
    listed = FirstListed()
    for k, img in enumerate(images):
        where = f"{json_path}: images[{k}]"
        iid = _int_id(img.get("id"), where, "id")
        if iid in index_of:
            raise FeintError(f"{where}: image id {iid} used twice")
        file_name = img.get("file_name")
        if not isinstance(file_name, str) or not file_name:
            raise FeintError(f"{where}: 'file_name' must be a non-empty string")
        image = folder / file_name
        if not image.is_file() and (folder / "images" / file_name).is_file():
            image = folder / "images" / file_name
        if not image.is_file():
            raise FeintError(f"{where} (id {iid}): image {file_name!r} not found (looked in {folder})")
        listed.check(image, f"{where} (id {iid})", file_name, f"images[{k}] (id {iid})")
        src = img.get("source", source)
        if src not in SOURCES:
            raise FeintError(f"{where}: 'source' must be one of {', '.join(SOURCES)}, got {src!r}")
        label = img.get("class")
        if label is not None and label not in classes:
            raise FeintError(f"{where}: 'class' {label!r} is not one of the categories")
        meta = dict(img["meta"]) if isinstance(img.get("meta"), dict) else {}
        meta.update({key: v for key, v in img.items() if key not in STANDARD_IMAGE_KEYS})
        w, h = img.get("width"), img.get("height")
        if w is not None and h is not None:
            w, h = _int_id(w, where, "width"), _int_id(h, where, "height")
        records.append(
            Record(
                image=image,
                width=w,
                height=h,
                label=label,
                group=str(img.get("group") or ""),
                source=src,
                split=img.get("split"),
                meta=meta,
            )
        )
        index_of[iid] = k

    unsized = [k for k, r in enumerate(records) if r.width is None or r.height is None]
    if unsized:
        for k, (w, h) in zip(unsized, header_sizes([records[k].image for k in unsized]), strict=True):
            records[k].width, records[k].height = w, h

    boxes: list[list[list[float]]] = [[] for _ in records]
    labels: list[list[str]] = [[] for _ in records]
    masks: list[list[dict[str, Any] | None]] = [[] for _ in records]
    for k, ann in enumerate(annotations):
        where = f"{json_path}: annotations[{k}] (id {ann.get('id')})"
        image_id = ann.get("image_id")
        if image_id not in index_of:
            raise FeintError(f"{where}: image_id {image_id!r} is not in 'images'")
        category_id = ann.get("category_id")
        if category_id not in names:
            have = f"{min(names)}..{max(names)}" if names else "none"
            raise FeintError(f"{where}: category_id {category_id!r} out of range (category ids: {have})")
        bbox = ann.get("bbox")
        if not isinstance(bbox, list) or len(bbox) != 4 or not all(isinstance(v, (int, float)) for v in bbox):
            raise FeintError(f"{where}: 'bbox' must be [x, y, width, height], got {bbox!r}")
        i = index_of[image_id]
        rec = records[i]
        x, y, bw, bh = (float(v) for v in bbox)
        box = [x, y, x + bw, y + bh]
        check_box(box, rec.width, rec.height, where)
        boxes[i].append(box)
        labels[i].append(names[category_id])
        masks[i].append(_mask(ann.get("segmentation"), rec.height or 0, rec.width or 0, where))

    for i, rec in enumerate(records):
        if boxes[i]:
            rec.boxes = np.asarray(boxes[i], dtype=np.float64)
            rec.box_labels = tuple(labels[i])
            rec.masks = tuple(masks[i]) if any(m is not None for m in masks[i]) else None
    return classes, records, images


def load_coco(path: Path, source: str = "real") -> Dataset:
    json_path = path / "annotations.json" if path.is_dir() else path
    classes, records, _ = coco_records(json_path, read_json(json_path), source)
    if not records:
        raise FeintError(f"{json_path}: no images: the dataset is empty")
    return Dataset(classes, records, root=json_path, format="coco")


def _number(v: float) -> float | int:
    r = round(float(v), 4)
    return int(r) if r == int(r) else r


def _rle_area(mask: dict[str, Any]) -> int:
    from pycocotools import mask as mask_utils

    return int(mask_utils.area({"size": mask["size"], "counts": mask["counts"].encode("ascii")}))


def to_coco(dataset: Dataset, files: list[str]) -> dict[str, Any]:
    """The COCO dict of a dataset, images named by `files`."""
    category_id = {name: i + 1 for i, name in enumerate(dataset.classes)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for k, (rec, file_name) in enumerate(zip(dataset.records, files, strict=True)):
        entry: dict[str, Any] = {
            "id": k + 1,
            "file_name": file_name,
            "width": rec.width,
            "height": rec.height,
        }
        if rec.label is not None:
            entry["class"] = rec.label
        if not is_default_group(rec):
            entry["group"] = rec.group
        entry["source"] = rec.source
        if rec.split is not None:
            entry["split"] = rec.split
        if rec.meta:
            entry["meta"] = plain(rec.meta)
        images.append(entry)
        for j, (box, name) in enumerate(zip(rec.boxes, rec.box_labels, strict=True)):
            x0, y0, x1, y1 = (float(v) for v in box)
            mask = rec.masks[j] if rec.masks is not None else None
            area: float | int
            if mask is not None:
                area = _rle_area(mask)
            else:
                area = _number((x1 - x0) * (y1 - y0))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": k + 1,
                    "category_id": category_id[name],
                    "bbox": [_number(x0), _number(y0), _number(x1 - x0), _number(y1 - y0)],
                    "area": area,
                    "segmentation": mask if mask is not None else [],
                    "iscrowd": 0,
                }
            )
    return {
        "info": {"description": "written by feint data"},
        "categories": [{"id": i, "name": n, "supercategory": "object"} for n, i in category_id.items()],
        "images": images,
        "annotations": annotations,
    }


def save_coco(dataset: Dataset, out: Path, copy: bool = False) -> list[str]:
    """annotations.json referencing the images (relative paths), or copies under images/."""
    if copy:
        files = [f"images/{n}" for n in unique_names([r.image for r in dataset.records])]
        for r, f in zip(dataset.records, files, strict=True):
            place_image(r.image, out / f, copy=True)
    else:
        files = relative_files(dataset.records, out)
    write_json_atomic(out / "annotations.json", to_coco(dataset, files), indent=None)
    return []
