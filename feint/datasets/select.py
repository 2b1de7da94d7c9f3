"""Keep classes, rename or merge classes with a mapping file, filter images by columns or metadata.

An image that had labels and loses all of them (its class and every box dropped) is dropped; an image
that never had a label (a background image) is kept. Box masks follow their boxes.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feint.datasets.core import Dataset, Record
from feint.errors import FeintError

DROP = ("", "-", "null", "none", "~")


def read_mapping(path: Path) -> list[tuple[int, str, str | None]]:
    """(line, from, to) per entry; `to` None drops the class. YAML `from: to`, or CSV/text `from,to` lines."""
    if not path.is_file():
        raise FeintError(f"{path}: mapping file not found")
    if path.suffix.lower() in (".yaml", ".yml"):
        return _read_yaml_mapping(path)
    entries = []
    for n, raw in enumerate(_text(path).splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = [p.strip() for p in re.split(r"[,\t]", line)]
        if len(parts) != 2 or not parts[0]:
            raise FeintError(f"{path}: line {n}: expected 'from,to' (empty 'to' drops it), got {raw!r}")
        if n == 1 and parts == ["from", "to"]:
            continue
        entries.append((n, parts[0], None if parts[1].lower() in DROP else parts[1]))
    return entries


def _text(path: Path) -> str:
    """The file as UTF-8 text; a byte that is not UTF-8 is an error naming its line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        raise FeintError(f"{path}: line {line}: not UTF-8 text (byte {data[err.start]:#04x})") from None


def _read_yaml_mapping(path: Path) -> list[tuple[int, str, str | None]]:
    import yaml

    try:
        root = yaml.compose(_text(path))
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        raise FeintError(f"{path}: line {mark.line + 1 if mark else '?'}: invalid YAML") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise FeintError(f"{path}: line {root.start_mark.line + 1}: expected a mapping 'from: to'")
    entries = []
    for key, value in root.value:
        line = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode) or not isinstance(value, yaml.ScalarNode):
            raise FeintError(f"{path}: line {line}: expected 'from: to' with plain class names")
        to = value.value.strip()
        entries.append((line, key.value.strip(), None if to.lower() in DROP else to))
    return entries


def _relabel(record: Record, rename: Callable[[str], str | None]) -> Record | None:
    """The record with classes renamed (None drops); None if it had labels and none are left."""
    had_labels = record.label is not None or len(record.boxes) > 0
    label = rename(record.label) if record.label is not None else None
    new = [rename(c) for c in record.box_labels]
    keep = np.array([c is not None for c in new], dtype=bool)
    boxes = record.boxes[keep] if len(keep) else record.boxes
    masks = None if record.masks is None else tuple(m for m, k in zip(record.masks, keep, strict=True) if k)
    box_labels = tuple(c for c in new if c is not None)
    if had_labels and label is None and not box_labels:
        return None
    if masks is not None and all(m is None for m in masks):
        masks = None
    return record.with_(label=label, boxes=boxes, box_labels=box_labels, masks=masks if box_labels else None)


def map_classes(
    dataset: Dataset, mapping: Sequence[tuple[int, str, str | None]], where: Path | str
) -> Dataset:
    """Rename/merge/drop classes; classes the mapping does not name stay as they are."""
    table: dict[str, str | None] = {}
    for line, src, dst in mapping:
        if src not in dataset.classes:
            raise FeintError(
                f"{where}: line {line}: class {src!r} is not in the dataset "
                f"(classes: {', '.join(dataset.classes)})"
            )
        if src in table:
            raise FeintError(f"{where}: line {line}: class {src!r} is mapped twice")
        table[src] = dst
    classes: list[str] = []
    for c in dataset.classes:
        target = table.get(c, c)
        if target is not None and target not in classes:
            classes.append(target)
    records = [r for r in (_relabel(r, lambda c: table.get(c, c)) for r in dataset.records) if r is not None]
    return dataset.with_records(records, classes)


def keep_classes(dataset: Dataset, classes: Sequence[str]) -> Dataset:
    """Only these classes, in this order (which becomes the class order of the result)."""
    if not classes:
        raise FeintError("--classes: give at least one class name (a,b,c)")
    twice = sorted({c for c in classes if list(classes).count(c) > 1})
    if twice:
        raise FeintError(f"--classes: {', '.join(twice)} given twice")
    unknown = [c for c in classes if c not in dataset.classes]
    if unknown:
        raise FeintError(
            f"--classes: {', '.join(unknown)} not in the dataset (classes: {', '.join(dataset.classes)})"
        )
    wanted = set(classes)
    records = [
        r
        for r in (_relabel(r, lambda c: c if c in wanted else None) for r in dataset.records)
        if r is not None
    ]
    return dataset.with_records(records, list(classes))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
    "<=": operator.le,
    ">=": operator.ge,
    "<": operator.lt,
    ">": operator.gt,
}
_WHERE = re.compile(r"^\s*([^=!<>\s]+)\s*(==|!=|<=|>=|=|<|>)\s*(.*?)\s*$")


def parse_where(text: str) -> tuple[str, str, str]:
    match = _WHERE.match(text)
    if not match:
        raise FeintError(
            f"--where {text!r}: expected COLUMN OP VALUE with OP one of = != < <= > >=, e.g. low_detail=0"
        )
    column, op, value = match.groups()
    return column, op, value


def _as_number(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(str(value))
    except ValueError:
        return None


def filter_where(dataset: Dataset, conditions: Sequence[str]) -> Dataset:
    """Keep records meeting every `COLUMN OP VALUE` (columns of Dataset.frame(): manifest columns, metadata).

    Numbers compare as numbers, anything else as text. A record without the column never matches,
    except for != (a synthetic image has no low_detail, so low_detail!=1 keeps it).
    """
    if not conditions:
        return dataset
    frame = dataset.frame()
    keep = np.ones(len(dataset), dtype=bool)
    for text in conditions:
        column, op, value = parse_where(text)
        if column not in frame.columns:
            have = ", ".join(map(str, frame.columns))
            raise FeintError(f"--where {text!r}: no column {column!r} (columns: {have})")
        want_num = _as_number(value)
        compare = _OPS[op]
        for i, v in enumerate(frame[column].tolist()):
            if v is None or (isinstance(v, float) and v != v):
                keep[i] &= op == "!="
                continue
            have_num = _as_number(v)
            if want_num is not None and have_num is not None:
                keep[i] &= compare(have_num, want_num)
            elif op in ("==", "=", "!="):
                keep[i] &= compare(str(v), value)
            else:
                raise FeintError(f"--where {text!r}: {column} value {v!r} is not a number")
    return dataset.with_records(r for r, k in zip(dataset.records, keep, strict=True) if k)
