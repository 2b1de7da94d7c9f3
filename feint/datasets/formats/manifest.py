"""CSV manifest: one row per image, `file` (relative to the CSV's folder) plus optional columns.

Known columns: file (required), class, group, source (real|synthetic), split, width, height; every other
column is metadata (ships-dev: low_detail, masked_cutout). An optional classes.txt beside the CSV fixes
the class order; without it classes are sorted by name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feint.datasets.core import SOURCES, Dataset, Record
from feint.datasets.formats._common import FirstListed, plain, relative_files, write_manifest
from feint.datasets.images import header_sizes, unique_names
from feint.errors import FeintError

TEXT_COLUMNS = ("file", "class", "group", "source", "split")
KNOWN = (*TEXT_COLUMNS, "width", "height")


def read_classes_txt(path: Path) -> list[str]:
    names = [line.strip() for line in path.read_text().splitlines()]
    return [n for n in names if n]


def read_rows(csv_path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, row) for every data row; values plain Python, missing ones None."""
    import pandas as pd

    try:
        table = pd.read_csv(csv_path, dtype={c: str for c in TEXT_COLUMNS}, skipinitialspace=True)
    except FileNotFoundError:
        raise FeintError(f"{csv_path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise FeintError(f"{csv_path}: empty file, expected a header line with a 'file' column") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as err:
        reason = " ".join(str(err).split())  # pandas' messages end in a newline
        raise FeintError(f"{csv_path}: not a readable CSV file ({reason})") from None
    if "file" not in table.columns:
        have = ", ".join(map(str, table.columns))
        raise FeintError(f"{csv_path}: line 1: no 'file' column (columns: {have})")
    columns = [str(c) for c in table.columns]
    rows = []
    for i, values in enumerate(table.itertuples(index=False, name=None)):
        rows.append((i + 2, {c: plain(v) for c, v in zip(columns, values, strict=True)}))
    return rows


def _size(row: dict[str, Any], key: str, where: str) -> int | None:
    value = row.get(key)
    if value is None:
        return None
    try:
        size = int(value)
    except (TypeError, ValueError, OverflowError):
        raise FeintError(f"{where}: {key} {value!r} is not a whole number") from None
    if size <= 0 or size != value:
        raise FeintError(f"{where}: {key} {value!r} is not a positive whole number")
    return size


def load_manifest(path: Path, source: str = "real") -> Dataset:
    csv_path = path / "manifest.csv" if path.is_dir() else path
    folder = csv_path.parent
    rows = read_rows(csv_path)
    if not rows:
        raise FeintError(f"{csv_path}: no rows: the dataset is empty")
    classes_txt = folder / "classes.txt"
    classes = read_classes_txt(classes_txt) if classes_txt.exists() else None
    records: list[Record] = []
    missing_size: list[int] = []
    where_of: list[str] = []
    listed = FirstListed()
    for line, row in rows:
        where = f"{csv_path}: line {line}"
        file = row["file"]
        if not file:
            raise FeintError(f"{where}: empty 'file'")
        image = folder / file
        if not image.is_file():
            raise FeintError(f"{where}: image {file!r} not found (looked for {image})")
        label = row.get("class")
        listed.check(
            image,
            where,
            file,
            f"line {line} " + (f"(as class {label!r})" if label is not None else "(without a class)"),
        )
        if classes is not None and label is not None and label not in classes:
            raise FeintError(f"{where}: class {label!r} is not in {classes_txt}")
        src = row.get("source") or source
        if src not in SOURCES:
            raise FeintError(f"{where}: source {src!r} must be one of {', '.join(SOURCES)}")
        meta = {k: v for k, v in row.items() if k not in KNOWN}
        rec = Record(
            image=image,
            width=_size(row, "width", where),
            height=_size(row, "height", where),
            label=label,
            group=row.get("group") or "",
            source=src,
            split=row.get("split"),
            meta=meta,
        )
        if rec.width is None or rec.height is None:
            missing_size.append(len(records))
            where_of.append(where)
        records.append(rec)
    if missing_size:
        sizes = header_sizes([records[i].image for i in missing_size], where_of)
        for i, (w, h) in zip(missing_size, sizes, strict=True):
            records[i].width, records[i].height = w, h
    if classes is None:
        classes = sorted({r.label for r in records if r.label is not None})
    return Dataset(classes, records, root=csv_path, format="manifest")


def save_manifest(dataset: Dataset, out: Path, copy: bool = False) -> list[str]:
    """manifest.csv + classes.txt referencing the images (or copies under images/<class>/)."""
    from feint.datasets.formats._common import place_image

    if copy:
        names = unique_names([r.image for r in dataset.records])
        files = [
            f"images/{r.primary_class or '_unlabelled'}/{n}"
            for r, n in zip(dataset.records, names, strict=True)
        ]
        for r, f in zip(dataset.records, files, strict=True):
            place_image(r.image, out / f, copy=True)
    else:
        files = relative_files(dataset.records, out)
    write_manifest(dataset, out, files)
    notes = []
    if dataset.has_boxes:
        notes.append("boxes are not kept in a manifest (classification only); use coco or yolo for boxes")
    return notes
