"""YOLO (Ultralytics) detection: data.yaml with `names`, images/, labels/<stem>.txt with `id cx cy w h`.

Class ids count from 0 in the order of `names`; coordinates are fractions of the image size. Label lines
with more than 5 numbers are read as segmentation polygons (box = polygon bounds, mask = polygon). An image
without a label file has no objects. `train`/`val`/`test` in data.yaml may name folders or .txt lists;
when they all name the same images (as in typesofships), the dataset has no split.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from feint.datasets.core import Dataset, Record
from feint.datasets.formats._common import FirstListed, place_image, write_manifest
from feint.datasets.images import header_sizes, is_image, unique_names
from feint.datasets.validate import check_box
from feint.errors import FeintError, warn
from feint.io import write_text_atomic

SPLIT_KEYS = ("train", "val", "test")


def _read_yaml(path: Path) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise FeintError(f"{path}: no such file") from None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = f": line {mark.line + 1}" if mark is not None else ""
        raise FeintError(f"{path}{line}: invalid YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise FeintError(f"{path}: expected a mapping with 'names'")
    return data


def _names(data: dict[str, Any], path: Path) -> list[str]:
    names = data.get("names")
    if isinstance(names, dict):
        try:
            ids = sorted(int(k) for k in names)
        except (TypeError, ValueError):
            raise FeintError(f"{path}: 'names' keys must be class ids 0, 1, 2 ...") from None
        if ids != list(range(len(ids))):
            raise FeintError(f"{path}: 'names' ids must be 0..{len(ids) - 1} without gaps, got {ids}")
        names = [names[k] if k in names else names[str(k)] for k in ids]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n for n in names):
        raise FeintError(f"{path}: 'names' must be a non-empty list of class names")
    nc = data.get("nc")
    if nc is not None and nc != len(names):
        raise FeintError(f"{path}: nc is {nc} but 'names' lists {len(names)} classes")
    return names


def _images_of(entry: Any, base: Path, yaml_path: Path, key: str) -> list[Path]:
    """Images named by a train/val/test entry: folders (searched recursively) and/or .txt lists; an image
    named twice in one entry is an error (it would count twice)."""
    paths: list[Path] = []
    listed = FirstListed()
    for item in entry if isinstance(entry, list) else [entry]:
        p = base / str(item)
        if not p.exists() and str(item).startswith("../"):  # Roboflow exports; Ultralytics reads them so
            p = base / str(item)[3:]
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if is_image(f) and f.is_file())
            for f in found:
                listed.check(
                    f,
                    f"{yaml_path}: {key}",
                    str(f.relative_to(base) if f.is_relative_to(base) else f),
                    f"folder {str(item)!r}",
                )
            paths += found
        elif p.is_file() and p.suffix == ".txt":
            for n, line in enumerate(p.read_text().splitlines(), 1):
                line = line.strip()
                if not line:
                    continue
                img = p.parent / line[2:] if line.startswith("./") else base / line
                if not img.is_file():
                    raise FeintError(f"{p}: line {n}: image {line!r} not found")
                listed.check(img, f"{p}: line {n}", line, f"line {n} of {p.name}")
                paths.append(img)
        else:
            raise FeintError(f"{yaml_path}: {key}: {item!r} is neither a folder nor a .txt list (at {p})")
    return paths


def label_path(image: Path) -> Path:
    """Ultralytics' rule: the last `images` folder of the path becomes `labels`, the suffix `.txt`."""
    parts = list(image.parts)
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "images":
            parts[i] = "labels"
            return Path(*parts).with_suffix(".txt")
    return image.with_suffix(".txt")


def _parse_labels(path: Path, width: int, height: int, names: list[str]) -> tuple[list, list, list]:
    boxes, labels, polygons = [], [], []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        tokens = line.split()
        if not tokens:
            continue
        where = f"{path}: line {n}"
        try:
            values = [float(t) for t in tokens]
        except ValueError:
            raise FeintError(f"{where}: expected numbers 'class cx cy w h', got {line.strip()!r}") from None
        if len(values) != 5 and (len(values) < 7 or len(values) % 2 == 0):
            raise FeintError(
                f"{where}: expected 'class cx cy w h' (5 numbers) or 'class x y x y ...' "
                f"(a polygon), got {len(values)} numbers"
            )
        cid = values[0]
        if cid != int(cid) or not 0 <= cid < len(names):
            raise FeintError(
                f"{where}: class id {tokens[0]} out of range 0..{len(names) - 1} "
                f"(data.yaml names {len(names)} classes)"
            )
        if len(values) == 5:
            cx, cy, w, h = values[1:]
            box = [(cx - w / 2) * width, (cy - h / 2) * height, (cx + w / 2) * width, (cy + h / 2) * height]
            polygon = None
        else:
            xs, ys = np.array(values[1::2]) * width, np.array(values[2::2]) * height
            box = [float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())]
            polygon = np.stack([xs, ys], axis=1).reshape(-1).tolist()
        check_box(box, width, height, where)
        boxes.append(box)
        labels.append(names[int(cid)])
        polygons.append(polygon)
    return boxes, labels, polygons


def _polygon_masks(polygons: list, height: int, width: int) -> tuple[dict[str, Any] | None, ...] | None:
    if all(p is None for p in polygons):
        return None
    from pycocotools import mask as mask_utils

    masks: list[dict[str, Any] | None] = []
    for p in polygons:
        if p is None:
            masks.append(None)
            continue
        rle = mask_utils.merge(mask_utils.frPyObjects([p], height, width))
        masks.append({"size": [int(s) for s in rle["size"]], "counts": rle["counts"].decode("ascii")})
    return tuple(masks)


def load_yolo(path: Path, source: str = "real") -> Dataset:
    yaml_path = path / "data.yaml" if path.is_dir() else path
    data = _read_yaml(yaml_path)
    names = _names(data, yaml_path)
    folder = yaml_path.parent
    base = folder / str(data["path"]) if data.get("path") not in (None, "") else folder
    if not base.is_dir():  # absolute paths from the machine that exported it: use the yaml's folder
        base = folder

    listed = {key: _images_of(data[key], base, yaml_path, key) for key in SPLIT_KEYS if data.get(key)}
    if not listed:
        default = base / "images" if (base / "images").is_dir() else base
        listed = {"": _images_of(".", default, yaml_path, "images")}
    split_of: dict[str, tuple[Path, str | None]] = {}  # by absolute path: './a.jpg' and 'a.jpg' are one
    for key, images in listed.items():
        for img in images:
            name = os.path.abspath(img)
            split_of[name] = (split_of[name][0], None) if name in split_of else (img, key or None)
    overlapping = sum(len(v) for v in listed.values()) != len(split_of)
    if overlapping:  # the same images serve as train and val: no usable split
        named = [{os.path.abspath(p) for p in v} for v in listed.values()]
        if any(n != named[0] for n in named):  # not all the same images (typesofships): say so
            both = next(img for img, split in split_of.values() if split is None)
            warn(
                f"{yaml_path}: some images are in more than one of {', '.join(listed)} (e.g. {both}), "
                "others in one: the dataset is read without splits"
            )
        split_of = {k: (img, None) for k, (img, _) in split_of.items()}
    images = [img for img, _ in split_of.values()]
    if not images:
        raise FeintError(f"{yaml_path}: no images found (looked in {', '.join(map(str, listed)) or base})")

    sizes = header_sizes(images)
    records = []
    for img, (w, h) in zip(images, sizes, strict=True):
        lp = label_path(img)
        boxes, labels, polygons = _parse_labels(lp, w, h, names) if lp.is_file() else ([], [], [])
        records.append(
            Record(
                image=img,
                width=w,
                height=h,
                boxes=np.asarray(boxes, dtype=np.float64),
                box_labels=tuple(labels),
                masks=_polygon_masks(polygons, h, w),
                source=source,
                split=split_of[os.path.abspath(img)][1],
            )
        )
    _apply_sidecar(folder, records, names)
    return Dataset(names, records, root=yaml_path, format="yolo")


def _apply_sidecar(folder: Path, records: list[Record], names: list[str]) -> None:
    """Groups, sources, splits, image classes and metadata from the manifest.csv a feint export writes."""
    from feint.datasets.formats.manifest import KNOWN, read_rows

    sidecar = folder / "manifest.csv"
    if not sidecar.is_file():
        return
    by_path = {os.path.abspath(r.image): r for r in records}
    listed = FirstListed()
    for line, row in read_rows(sidecar):
        listed.check(folder / str(row["file"]), f"{sidecar}: line {line}", str(row["file"]), f"line {line}")
        rec = by_path.get(os.path.abspath(folder / str(row["file"])))
        if rec is None:
            continue
        label = row.get("class")
        if label is not None and label not in names:
            raise FeintError(f"{sidecar}: line {line}: class {label!r} is not in data.yaml names")
        if not len(rec.boxes):  # an image-level class only matters where no box says it
            rec.label = label
        rec.group = row.get("group") or rec.group
        source = row.get("source")
        rec.source = source if source in ("real", "synthetic") else rec.source
        rec.split = row.get("split") or rec.split
        rec.meta = {k: v for k, v in row.items() if k not in KNOWN}


def save_yolo(dataset: Dataset, out: Path, copy: bool = False) -> list[str]:
    """images/ (links or copies), labels/ (one file per image with objects), data.yaml, split lists."""
    import yaml

    class_id = {name: i for i, name in enumerate(dataset.classes)}
    (out / "labels").mkdir(parents=True, exist_ok=True)
    names = unique_names([r.image for r in dataset.records], stems_unique=True)
    files = []
    for rec, name in zip(dataset.records, names, strict=True):
        place_image(rec.image, out / "images" / name, copy)
        lines = []
        for (x0, y0, x1, y1), label in zip(rec.boxes.tolist(), rec.box_labels, strict=True):
            w, h = rec.width, rec.height
            lines.append(
                f"{class_id[label]} {(x0 + x1) / 2 / w:.6f} {(y0 + y1) / 2 / h:.6f} "
                f"{(x1 - x0) / w:.6f} {(y1 - y0) / h:.6f}\n"
            )
        if lines:  # no label file = no objects (Ultralytics' rule); the image itself is kept
            # a plain write: `out` is a fresh folder that replaces the destination only once complete
            (out / "labels" / f"{Path(name).stem}.txt").write_text("".join(lines))
        files.append(f"images/{name}")
    config: dict[str, Any] = {}  # no `path`: Ultralytics then uses this folder (`path: .` is the cwd)
    splits = dataset.splits
    if splits:
        for split in splits:
            listed = [f"./{f}\n" for f, r in zip(files, dataset.records, strict=True) if r.split == split]
            write_text_atomic(out / f"{split}.txt", "".join(listed))
            config[split] = f"{split}.txt"
    else:
        config.update(train="images", val="images")
    config.update(nc=len(dataset.classes), names=list(dataset.classes))
    write_manifest(dataset, out, files)
    write_text_atomic(out / "data.yaml", yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    notes = []
    if any(r.masks is not None for r in dataset.records):
        notes.append("masks are not written to YOLO detection labels (boxes only)")
    if any(r.split is None for r in dataset.records) and splits:
        notes.append("images without a split are in images/ but in no list")
    return notes
