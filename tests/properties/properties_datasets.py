"""Generated datasets for the property tests: a drawn `DatasetSpec` (format, classes, a handful of tiny
images with classes, boxes, groups and splits, and one corruption or none), written to disk by `build`.

The layouts follow tests/datasets/conftest.py and feint/datasets/formats/*: a manifest folder
(`<class>/imgK.jpg` + manifest.csv), COCO (images/ + annotations.json), YOLO (data.yaml + images/ +
labels/), an ImageFolder (`[<split>/]<class>/imgK.jpg`) and a feint render (images/NNNNNN.jpg,
annotations.json, dataset.json, params.parquet).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from PIL import Image

FORMATS = ("manifest", "coco", "yolo", "imagefolder", "feint")
CLASS_POOL = ("cat", "dog", "emu", "fox")
SPLITS = ("train", "val", "test")

IMAGE_DAMAGE = (
    "missing_image",
    "truncated_image",
    "garbage_image",
    "empty_image",
    "image_is_folder",
    "wrong_size_label",
)
DAMAGE: dict[str, tuple[str, ...]] = {
    "manifest": IMAGE_DAMAGE
    + (
        "csv_empty",
        "csv_header_only",
        "csv_no_file_column",
        "csv_bad_quotes",
        "csv_non_utf8",
        "csv_duplicate_row",
        "csv_bad_width",
        "csv_bad_source",
        "csv_extra_fields",
        "csv_empty_file_cell",
        "csv_bom",
        "classes_txt_missing_class",
        "classes_txt_non_utf8",
        "csv_file_is_folder",
        "csv_absolute_missing",
    ),
    "coco": IMAGE_DAMAGE
    + (
        "json_empty",
        "json_truncated",
        "json_non_utf8",
        "json_not_object",
        "json_no_images",
        "json_images_not_list",
        "box_outside",
        "box_negative",
        "box_nan",
        "box_inf",
        "box_strings",
        "box_short",
        "box_empty",
        "unknown_category",
        "category_id_float",
        "category_id_string",
        "duplicate_image_id",
        "duplicate_category",
        "ann_unknown_image",
        "width_string",
        "width_negative",
        "width_zero",
        "width_huge",
        "width_float",
        "file_name_missing",
        "file_name_number",
        "bad_split",
        "bad_group",
        "bad_source",
        "bad_class",
        "segmentation_garbage",
        "segmentation_rle_wrong_size",
        "segmentation_polygon_odd",
        "meta_not_dict",
        "categories_missing",
        "annotations_not_list",
        "bbox_bool",
    ),
    "yolo": IMAGE_DAMAGE[:-1]
    + (
        "yaml_empty",
        "yaml_truncated",
        "yaml_non_utf8",
        "yaml_list",
        "names_missing",
        "names_empty",
        "names_dict_gap",
        "names_dict",
        "nc_mismatch",
        "names_numbers",
        "names_duplicate",
        "label_unknown_class",
        "label_outside",
        "label_nan",
        "label_negative_wh",
        "label_garbage",
        "label_non_utf8",
        "label_polygon_odd",
        "label_polygon",
        "label_float_class",
        "label_empty_lines",
        "split_list_missing_image",
        "split_points_nowhere",
        "path_elsewhere",
        "sidecar_bad_class",
        "sidecar_garbage",
        "label_is_folder",
    ),
    "imagefolder": IMAGE_DAMAGE[:-1]
    + (
        "empty_class_folder",
        "non_image_file",
        "no_class_folders",
        "hidden_folder",
        "mixed_split_layout",
        "image_non_utf8_name",
    ),
    "feint": IMAGE_DAMAGE
    + (
        "dataset_json_malformed",
        "dataset_json_list",
        "dataset_json_missing",
        "params_garbage",
        "params_no_index",
        "box_outside",
        "unknown_category",
        "json_truncated",
        "bad_group",
        "render_json_only",
    ),
}


@dataclass
class ImageSpec:
    w: int
    h: int
    cls: str | None
    boxes: list[tuple[float, float, float, float, str]]
    group: str | None
    split: str | None
    ext: str
    value: int


@dataclass
class DatasetSpec:
    fmt: str
    classes: list[str]
    images: list[ImageSpec]
    linked: bool  # the dataset's images are links into a folder of originals beside it
    as_file: bool  # the command is given the label file (annotations.json, manifest.csv, data.yaml)
    damage: str
    pick: int  # which image / row / line a corruption hits
    odd: Any  # a value a corruption uses
    extra_column: bool = False
    params: bool = False
    same_names: bool = False
    notes: dict[str, Any] = field(default_factory=dict)


@st.composite
def boxes_for(draw: st.DrawFn, w: int, h: int, classes: list[str]) -> tuple[float, float, float, float, str]:
    x0 = draw(st.integers(0, w - 1))
    y0 = draw(st.integers(0, h - 1))
    x1 = draw(st.integers(x0 + 1, w))
    y1 = draw(st.integers(y0 + 1, h))
    frac = draw(st.sampled_from([0.0, 0.0, 0.25, 0.5]))
    return float(x0) + frac * (x1 - x0 > 1), float(y0), float(x1), float(y1), draw(st.sampled_from(classes))


@st.composite
def dataset_specs(draw: st.DrawFn, formats: tuple[str, ...] = FORMATS, damage: bool = True) -> DatasetSpec:
    fmt = draw(st.sampled_from(formats))
    classes = draw(st.lists(st.sampled_from(CLASS_POOL), min_size=1, max_size=3, unique=True))
    with_splits = fmt != "feint" and draw(st.booleans())
    n = draw(st.integers(1, 6))
    has_boxes = fmt in ("coco", "yolo", "feint")
    images = []
    for k in range(n):
        w, h = draw(st.integers(4, 24)), draw(st.integers(4, 24))
        boxes = (
            draw(st.lists(boxes_for(w, h, classes), min_size=1 if fmt == "feint" else 0, max_size=2))
            if has_boxes
            else []
        )
        if fmt in ("manifest", "imagefolder"):
            cls = (
                draw(st.sampled_from(classes))
                if fmt == "imagefolder"
                else draw(st.one_of(st.sampled_from(classes), st.sampled_from(classes), st.none()))
            )
        elif fmt == "coco":
            cls = draw(st.one_of(st.none(), st.none(), st.sampled_from(classes)))
        else:
            cls = None
        group = draw(st.sampled_from([None, "g0", "g1", "g2", "g3"])) if fmt in ("manifest", "coco") else None
        split = draw(st.sampled_from(SPLITS)) if with_splits else None
        ext = ".jpg" if fmt == "feint" else draw(st.sampled_from([".jpg", ".png"]))
        images.append(ImageSpec(w, h, cls, boxes, group, split, ext, 20 * k))
    hurt = draw(st.sampled_from(DAMAGE[fmt])) if damage else "none"
    return DatasetSpec(
        fmt=fmt,
        classes=classes,
        images=images,
        linked=draw(st.booleans()),
        as_file=draw(st.booleans()),
        damage=hurt,
        pick=draw(st.integers(0, n - 1)),
        odd=draw(
            st.sampled_from(
                [
                    -3,
                    0,
                    1.5,
                    "abc",
                    10**9,
                    "nan",
                    math.nan,
                    math.inf,
                    -1e308,
                    [],
                    {},
                    None,
                    True,
                    "",
                    "../x.jpg",
                ]
            )
        ),
        extra_column=draw(st.booleans()),
        params=fmt == "feint" and draw(st.booleans()),
        same_names=fmt != "feint" and draw(st.booleans()),
    )


# --- writing -----------------------------------------------------------------------------------------
def _image(path: Path, spec: ImageSpec) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = Image.new("RGB", (spec.w, spec.h), (spec.value, 255 - spec.value, 40))
    img.save(path, format="JPEG" if path.suffix == ".jpg" else "PNG", quality=90)


def _relpaths(spec: DatasetSpec) -> list[str]:
    """Where each image lies in the dataset; with `same_names` every image is img.jpg/img.png in a folder
    of its own (flat exports must make the names, and YOLO's label stems, unique)."""
    out = []
    for k, im in enumerate(spec.images):
        name = f"{k}/img{im.ext}" if spec.same_names else f"img{k}{im.ext}"
        if spec.fmt == "manifest":
            out.append(f"{im.cls or 'unlabelled'}/{name}")
        elif spec.fmt == "imagefolder":
            out.append(f"{im.split}/{im.cls}/{name}" if im.split else f"{im.cls}/{name}")
        elif spec.fmt == "feint":
            out.append(f"images/{k:06d}.jpg")
        else:
            out.append(f"images/{name}")
    return out


def _label_file(folder: Path, name: str) -> Path:
    """Ultralytics' rule: images/.../x.jpg -> labels/.../x.txt."""
    return folder / Path("labels" + name[len("images") :]).with_suffix(".txt")


def build(folder: Path, spec: DatasetSpec, originals: Path) -> Path:
    """Write the dataset into `folder` (images linked from `originals` when spec.linked); return the path
    a command is given (the folder, or its label file)."""
    folder.mkdir(parents=True, exist_ok=True)
    rel = _relpaths(spec)
    for k, (im, name) in enumerate(zip(spec.images, rel, strict=True)):
        dest = folder / name
        if spec.linked:
            original = originals / f"orig{k}{im.ext}"
            _image(original, im)
            dest.parent.mkdir(parents=True, exist_ok=True)
            target = os.path.relpath(original, dest.parent) if k % 2 else str(original)
            os.symlink(target, dest)
        else:
            _image(dest, im)
    label_file = {
        "manifest": _manifest,
        "coco": _coco,
        "yolo": _yolo,
        "imagefolder": _imagefolder,
        "feint": _feint,
    }[spec.fmt](folder, spec, rel)
    _damage(folder, spec, rel, originals)
    return label_file if spec.as_file and label_file is not None else folder


def _manifest(folder: Path, spec: DatasetSpec, rel: list[str]) -> Path:
    splits = any(im.split for im in spec.images)
    header = (
        ["file", "class", "group"]
        + (["split"] if splits else [])
        + (["low_detail"] if spec.extra_column else [])
    )
    lines = [",".join(header)]
    for k, (im, name) in enumerate(zip(spec.images, rel, strict=True)):
        row = [name, im.cls or "", im.group or ""] + ([im.split or ""] if splits else [])
        lines.append(",".join(row + ([str(k % 2)] if spec.extra_column else [])))
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    if spec.extra_column:
        (folder / "classes.txt").write_text("".join(f"{c}\n" for c in spec.classes))
    return folder / "manifest.csv"


def _coco_dict(spec: DatasetSpec, rel: list[str], render: bool = False) -> dict[str, Any]:
    images, anns = [], []
    for k, (im, name) in enumerate(zip(spec.images, rel, strict=True)):
        entry: dict[str, Any] = {"id": k + 1, "file_name": name, "width": im.w, "height": im.h}
        if render:
            entry.update(index=k, seed=1000 + k)
        else:
            if im.cls is not None:
                entry["class"] = im.cls
            if im.group is not None:
                entry["group"] = im.group
            if im.split is not None:
                entry["split"] = im.split
            if spec.extra_column:
                entry["low_detail"] = k % 2
        images.append(entry)
        for x0, y0, x1, y1, c in im.boxes:
            anns.append(
                {
                    "id": len(anns) + 1,
                    "image_id": k + 1,
                    "category_id": spec.classes.index(c) + 1,
                    "bbox": [x0, y0, x1 - x0, y1 - y0],
                    "area": (x1 - x0) * (y1 - y0),
                    "iscrowd": 0,
                }
            )
    return {
        "categories": [{"id": i + 1, "name": c} for i, c in enumerate(spec.classes)],
        "images": images,
        "annotations": anns,
    }


def _coco(folder: Path, spec: DatasetSpec, rel: list[str]) -> Path:
    (folder / "annotations.json").write_text(json.dumps(_coco_dict(spec, rel)))
    return folder / "annotations.json"


def _yolo(folder: Path, spec: DatasetSpec, rel: list[str]) -> Path:
    config: dict[str, Any] = {}
    for im, name in zip(spec.images, rel, strict=True):
        lines = [
            f"{spec.classes.index(c)} {(x0 + x1) / 2 / im.w:.6f} {(y0 + y1) / 2 / im.h:.6f} "
            f"{(x1 - x0) / im.w:.6f} {(y1 - y0) / im.h:.6f}"
            for x0, y0, x1, y1, c in im.boxes
        ]
        if lines:
            label = _label_file(folder, name)
            label.parent.mkdir(parents=True, exist_ok=True)
            label.write_text("\n".join(lines) + "\n")
    splits = sorted({im.split for im in spec.images if im.split})
    for s in splits:
        (folder / f"{s}.txt").write_text(
            "".join(f"./{n}\n" for im, n in zip(spec.images, rel, strict=True) if im.split == s)
        )
        config[s] = f"{s}.txt"
    if not splits:
        config.update(train="images", val="images")
    config.update(nc=len(spec.classes), names=list(spec.classes))
    import yaml

    (folder / "data.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return folder / "data.yaml"


def _imagefolder(folder: Path, spec: DatasetSpec, rel: list[str]) -> None:
    return None


def _feint(folder: Path, spec: DatasetSpec, rel: list[str]) -> Path:
    (folder / "annotations.json").write_text(json.dumps(_coco_dict(spec, rel, render=True)))
    (folder / "dataset.json").write_text(json.dumps({"name": "render", "seed": 7, "images": len(rel)}))
    if spec.params:
        import pandas as pd

        pd.DataFrame(
            {
                "index": list(range(len(rel))),
                "sky.clouds": [0.1 * k for k in range(len(rel))],
                "camera.side": ["port" if k % 2 else "starboard" for k in range(len(rel))],
                "file_name": rel,
            }
        ).to_parquet(folder / "params.parquet")
    return folder / "annotations.json"


def _edit_json(path: Path, change: Any) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _damage(folder: Path, spec: DatasetSpec, rel: list[str], originals: Path) -> None:  # noqa: C901
    d, k, odd = spec.damage, spec.pick, spec.odd
    image = folder / rel[k]
    real_image = Path(os.path.realpath(image))
    if d == "none":
        return
    if d == "missing_image":
        real_image.unlink()  # with links: the original goes, the link is left dangling
    elif d == "truncated_image":
        data = real_image.read_bytes()
        real_image.write_bytes(data[: max(1, len(data) // 2)])
    elif d == "garbage_image":
        real_image.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 2)
    elif d == "empty_image":
        real_image.write_bytes(b"")
    elif d == "image_is_folder":
        real_image.unlink()
        real_image.mkdir()
    elif d == "wrong_size_label":
        if spec.fmt == "manifest":
            text = (folder / "manifest.csv").read_text().splitlines()
            text[0] += ",width,height"
            for i in range(1, len(text)):
                im = spec.images[i - 1]
                text[i] += f",{im.w + (i - 1 == k)},{im.h}"
            (folder / "manifest.csv").write_text("\n".join(text) + "\n")
        else:  # coco, feint: the json says another size than the file has

            def grow(c: dict) -> None:
                c["images"][k]["width"] += 5

            _edit_json(folder / "annotations.json", grow)
    # --- manifest ---
    elif d == "csv_empty":
        (folder / "manifest.csv").write_bytes(b"")
    elif d == "csv_header_only":
        (folder / "manifest.csv").write_text("file,class,group\n")
    elif d == "csv_no_file_column":
        text = (folder / "manifest.csv").read_text()
        (folder / "manifest.csv").write_text(text.replace("file,", "path,", 1))
    elif d == "csv_bad_quotes":
        with (folder / "manifest.csv").open("a") as f:
            f.write('"unclosed,cat,g9\n')
    elif d == "csv_non_utf8":
        with (folder / "manifest.csv").open("ab") as f:
            f.write(b"\xff\xfe\xfa,cat,g\xe9\n")
    elif d == "csv_duplicate_row":
        lines = (folder / "manifest.csv").read_text().splitlines()
        lines.append(lines[k + 1])
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    elif d == "csv_bad_width":
        lines = (folder / "manifest.csv").read_text().splitlines()
        lines[0] += ",width"
        for i in range(1, len(lines)):
            lines[i] += f",{odd if i - 1 == k else spec.images[i - 1].w}"
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    elif d == "csv_bad_source":
        lines = (folder / "manifest.csv").read_text().splitlines()
        lines[0] += ",source"
        for i in range(1, len(lines)):
            lines[i] += f",{odd if i - 1 == k else 'real'}"
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    elif d == "csv_extra_fields":
        lines = (folder / "manifest.csv").read_text().splitlines()
        lines[k + 1] += ",x,y,z"
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    elif d == "csv_empty_file_cell":
        lines = (folder / "manifest.csv").read_text().splitlines()
        lines[k + 1] = "," + lines[k + 1].split(",", 1)[1]
        (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    elif d == "csv_bom":
        (folder / "manifest.csv").write_bytes(b"\xef\xbb\xbf" + (folder / "manifest.csv").read_bytes())
    elif d == "classes_txt_missing_class":
        (folder / "classes.txt").write_text("zebra\n")
    elif d == "classes_txt_non_utf8":
        (folder / "classes.txt").write_bytes(b"cat\n\xff\xfe\n")
    elif d == "csv_file_is_folder":
        (folder / "manifest.csv").unlink()
        (folder / "manifest.csv").mkdir()
    elif d == "csv_absolute_missing":
        with (folder / "manifest.csv").open("a") as f:
            f.write(
                "/nonexistent/x.jpg,cat,g0"
                + (",train" if any(im.split for im in spec.images) else "")
                + (",0" if spec.extra_column else "")
                + "\n"
            )
    # --- coco (and feint renders) ---
    elif d == "json_empty":
        (folder / "annotations.json").write_bytes(b"")
    elif d == "json_truncated":
        text = (folder / "annotations.json").read_bytes()
        (folder / "annotations.json").write_bytes(text[: len(text) * 2 // 3])
    elif d == "json_non_utf8":
        text = (folder / "annotations.json").read_bytes()
        (folder / "annotations.json").write_bytes(text.replace(b'"name": "', b'"name": "\xff', 1))
    elif d == "json_not_object":
        (folder / "annotations.json").write_text("[1, 2]")
    elif d == "json_no_images":
        _edit_json(folder / "annotations.json", lambda c: c.pop("images"))
    elif d == "json_images_not_list":
        _edit_json(folder / "annotations.json", lambda c: c.update(images={"a": 1}))
    elif d == "categories_missing":
        _edit_json(folder / "annotations.json", lambda c: c.pop("categories"))
    elif d == "annotations_not_list":
        _edit_json(folder / "annotations.json", lambda c: c.update(annotations=odd if odd is not None else 3))
    elif d.startswith("box_") or d in ("bbox_bool",):
        bad = {
            "box_outside": [0, 0, 1000, 5],
            "box_negative": [-8, -8, 4, 4],
            "box_nan": [math.nan, 0, 2, 2],
            "box_inf": [0, 0, math.inf, 2],
            "box_strings": ["1", "2", "3", "4"],
            "box_short": [1, 2, 3],
            "box_empty": [2, 2, 0, 0],
            "bbox_bool": [True, False, True, True],
        }[d]

        def set_box(c: dict) -> None:
            if c["annotations"]:
                c["annotations"][k % len(c["annotations"])]["bbox"] = bad
            else:
                c["annotations"].append({"id": 99, "image_id": 1, "category_id": 1, "bbox": bad})

        _edit_json(folder / "annotations.json", set_box)
    elif d in ("unknown_category", "category_id_float", "category_id_string", "ann_unknown_image"):

        def set_ann(c: dict) -> None:
            ann = {"id": 99, "image_id": k + 1, "category_id": 1, "bbox": [0, 0, 1, 1]}
            if d == "unknown_category":
                ann["category_id"] = 99
            elif d == "category_id_float":
                ann["category_id"] = 1.0
            elif d == "category_id_string":
                ann["category_id"] = "1"
            else:
                ann["image_id"] = 999
            c["annotations"].append(ann)

        _edit_json(folder / "annotations.json", set_ann)
    elif d == "duplicate_image_id":
        _edit_json(folder / "annotations.json", lambda c: c["images"].append(dict(c["images"][k])))
    elif d == "duplicate_category":
        _edit_json(
            folder / "annotations.json",
            lambda c: c["categories"].append({"id": 50, "name": c["categories"][0]["name"]}),
        )
    elif d.startswith("width_"):
        value = {
            "width_string": "12",
            "width_negative": -4,
            "width_zero": 0,
            "width_huge": 10**12,
            "width_float": 12.5,
        }[d]
        _edit_json(folder / "annotations.json", lambda c: c["images"][k].update(width=value))
    elif d == "file_name_missing":
        _edit_json(folder / "annotations.json", lambda c: c["images"][k].update(file_name="nope/missing.jpg"))
    elif d == "file_name_number":
        _edit_json(folder / "annotations.json", lambda c: c["images"][k].update(file_name=odd))
    elif d in ("bad_split", "bad_group", "bad_source", "bad_class", "meta_not_dict"):
        key = {
            "bad_split": "split",
            "bad_group": "group",
            "bad_source": "source",
            "bad_class": "class",
            "meta_not_dict": "meta",
        }[d]
        value = odd if d != "bad_class" else "zebra"
        _edit_json(folder / "annotations.json", lambda c: c["images"][k].update({key: value}))
    elif d.startswith("segmentation_"):
        seg = {
            "segmentation_garbage": odd if odd not in (None, [], {}) else "x",
            "segmentation_rle_wrong_size": {"size": [1, 1], "counts": "0"},
            "segmentation_polygon_odd": [[1, 2, 3]],
        }[d]

        def set_seg(c: dict) -> None:
            if c["annotations"]:
                c["annotations"][0]["segmentation"] = seg

        _edit_json(folder / "annotations.json", set_seg)
    # --- yolo ---
    elif d == "yaml_empty":
        (folder / "data.yaml").write_bytes(b"")
    elif d == "yaml_truncated":
        text = (folder / "data.yaml").read_text()
        (folder / "data.yaml").write_text(text[: len(text) // 2] + "\n  - [unclosed\n")
    elif d == "yaml_non_utf8":
        with (folder / "data.yaml").open("ab") as f:
            f.write(b"extra: \xff\xfe\n")
    elif d == "yaml_list":
        (folder / "data.yaml").write_text("- names\n- [cat]\n")
    elif d.startswith("names_") or d == "nc_mismatch":
        import yaml

        config = yaml.safe_load((folder / "data.yaml").read_text())
        if d == "names_missing":
            config.pop("names")
        elif d == "names_empty":
            config["names"] = []
        elif d == "names_dict_gap":
            config["names"] = {i * 2: n for i, n in enumerate(spec.classes)}
        elif d == "names_dict":
            config["names"] = {str(i): n for i, n in enumerate(spec.classes)}
        elif d == "nc_mismatch":
            config["nc"] = odd
        elif d == "names_numbers":
            config["names"] = list(range(len(spec.classes)))
        elif d == "names_duplicate":
            config["names"] = [spec.classes[0]] * 2
            config.pop("nc")
        (folder / "data.yaml").write_text(yaml.safe_dump(config))
    elif d.startswith("label_"):
        im = spec.images[k]
        label = _label_file(folder, rel[k])
        label.parent.mkdir(parents=True, exist_ok=True)
        line = {
            "label_unknown_class": "7 0.5 0.5 0.2 0.2",
            "label_outside": "0 0.9 0.9 0.8 0.8",
            "label_nan": "0 nan 0.5 0.1 0.1",
            "label_negative_wh": "0 0.5 0.5 -0.2 0.2",
            "label_garbage": "cat 0.5 0.5 0.1 0.1",
            "label_polygon_odd": "0 0.1 0.1 0.5 0.5 0.9 0.2 0.3 0.9",
            "label_polygon": "0 0.1 0.1 0.5 0.1 0.5 0.6",
            "label_float_class": "0.5 0.5 0.5 0.1 0.1",
            "label_empty_lines": "\n\n   \n",
        }.get(d)
        if d == "label_non_utf8":
            label.write_bytes(b"0 0.5 0.5 0.1 0.1\n\xff\xfe\n")
        elif d == "label_is_folder":
            if label.exists():
                label.unlink()
            label.mkdir()
        else:
            with label.open("a") as f:
                f.write(f"{line}\n")
        del im
    elif d == "split_list_missing_image":
        names = sorted(folder.glob("*.txt"))
        if names:
            with names[0].open("a") as f:
                f.write("./images/ghost.jpg\n")
        else:
            import yaml

            config = yaml.safe_load((folder / "data.yaml").read_text())
            (folder / "list.txt").write_text("./images/ghost.jpg\n")
            config["train"] = "list.txt"
            (folder / "data.yaml").write_text(yaml.safe_dump(config))
    elif d == "split_points_nowhere":
        import yaml

        config = yaml.safe_load((folder / "data.yaml").read_text())
        config["val"] = "no/such/folder"
        (folder / "data.yaml").write_text(yaml.safe_dump(config))
    elif d == "path_elsewhere":
        import yaml

        config = yaml.safe_load((folder / "data.yaml").read_text())
        config["path"] = str(odd) if odd not in (None, "") else "/nonexistent"
        (folder / "data.yaml").write_text(yaml.safe_dump(config))
    elif d == "sidecar_bad_class":
        (folder / "manifest.csv").write_text(f"file,class,group\n{rel[k]},zebra,g0\n")
    elif d == "sidecar_garbage":
        (folder / "manifest.csv").write_bytes(b'file,class\n"unclosed,\xff\n')
    # --- imagefolder ---
    elif d == "empty_class_folder":
        (folder / ("train" if spec.images[0].split else "") / "zebra").mkdir(parents=True)
    elif d == "non_image_file":
        (image.parent / "notes.txt").write_text("not an image")
        (image.parent / "fake.jpg").write_text("not a jpeg")
    elif d == "no_class_folders":
        for p in sorted(folder.iterdir()):
            if p.is_dir():
                import shutil

                shutil.rmtree(p)
        _image(folder / "loose.jpg", spec.images[0])
    elif d == "hidden_folder":
        _image(folder / ".hidden" / "x.jpg", spec.images[0])
    elif d == "mixed_split_layout":
        _image(folder / "train" / "cat" / "extra.jpg", spec.images[0])
    elif d == "image_non_utf8_name":
        os.rename(image, os.path.join(os.fsencode(image.parent), b"\xff\xfe" + os.fsencode(image.name)))
    # --- feint renders ---
    elif d == "dataset_json_malformed":
        (folder / "dataset.json").write_text('{"seed": 7,')
    elif d == "dataset_json_list":
        (folder / "dataset.json").write_text("[7]")
    elif d == "dataset_json_missing":
        (folder / "dataset.json").unlink()
    elif d == "params_garbage":
        (folder / "params.parquet").write_bytes(b"PAR1 not really")
    elif d == "params_no_index":
        import pandas as pd

        pd.DataFrame({"other": [1, 2]}).to_parquet(folder / "params.parquet")
    elif d == "render_json_only":
        (folder / "annotations.json").unlink()
        (folder / "render.json").write_text("{}")
    else:
        raise AssertionError(f"unknown damage {d}")
