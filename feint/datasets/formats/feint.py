"""feint's own rendered datasets: COCO annotations.json + params.parquet + dataset.json (the card).

Read as COCO with source 'synthetic'; each image is its own group (`syn-<dataset seed>-<index>`, so two
renders never share a group), its class is the category of its first annotation (the main object), and
its metadata is its row of params.parquet (joined on `index`, or on `file_name` for older files).
Written datasets are never in this format: export a rendered dataset to coco, yolo or imagefolder.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from feint.datasets.core import Dataset
from feint.datasets.formats._common import plain
from feint.datasets.formats.coco import coco_records, read_json
from feint.errors import FeintError

# Parameters that repeat what the record already says.
_DROP = ("class", "file_name")


def _params(path: Path) -> tuple[str | None, dict[Any, dict[str, Any]]]:
    """Rows of params.parquet keyed by `index` (or `file_name`); empty if the file is absent."""
    if not path.is_file():
        return None, {}
    import pandas as pd

    try:
        table = pd.read_parquet(path)
    except Exception as err:  # pyarrow raises several types for a broken file
        raise FeintError(f"{path}: unreadable parquet file ({err})") from None
    key = "index" if "index" in table.columns else "file_name" if "file_name" in table.columns else None
    if key is None or not len(table):
        return None, {}
    rows = table.to_dict("records")
    return key, {plain(row[key]): {k: plain(v) for k, v in row.items() if k not in _DROP} for row in rows}


def load_feint(path: Path) -> Dataset:
    folder = path.parent if path.is_file() else path
    card = read_json(folder / "dataset.json")
    json_path = folder / "annotations.json"
    classes, records, images = coco_records(json_path, read_json(json_path), source="synthetic")
    if not records:
        raise FeintError(f"{json_path}: no images: the rendered dataset is empty")
    key, params = _params(folder / "params.parquet")
    seed = card.get("seed") if isinstance(card, dict) else None
    for rec, entry in zip(records, images, strict=True):
        index = entry.get("index", entry.get("id"))
        if not rec.group or rec.group == str(rec.image):
            rec.group = f"syn-{seed}-{index}" if seed is not None else f"syn-{index}"
        if rec.label is None and rec.box_labels:
            rec.label = rec.box_labels[0]
        row = params.get(entry.get(key)) if key else None
        if row:
            rec.meta = {**rec.meta, **row}
    return Dataset(classes, records, root=folder, format="feint", info=card if isinstance(card, dict) else {})
