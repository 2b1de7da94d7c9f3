"""Writing a dataset folder all-or-nothing, and the card that says how it was made.

Everything is first validated and then written into a hidden sibling folder; only when every file is
there does that folder replace the destination (two renames). An error at any point leaves the
destination exactly as it was. A destination that exists must be empty or a previous `feint data`
output (it has a card), so a typo in `-o` cannot replace an unrelated folder.
"""

from __future__ import annotations

import os
import platform
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feint.errors import FeintError
from feint.io import write_json_atomic

if TYPE_CHECKING:
    from feint.datasets.core import Dataset

CARD = "feint-data.json"


def check_destination(dest: Path, inputs: Sequence[Path]) -> None:
    """Refuse destinations that would replace an input or an unrelated folder."""
    dest_real = Path(os.path.realpath(dest))
    for src in inputs:
        src_real = Path(os.path.realpath(src))
        src_dir = src_real if src_real.is_dir() else src_real.parent
        if dest_real == src_dir or src_dir.is_relative_to(dest_real):
            raise FeintError(f"{dest}: output folder would replace the input {src}; pick another folder")
        if dest_real.is_relative_to(src_dir):
            raise FeintError(f"{dest}: output folder lies inside the input dataset {src}; pick one outside")
    if dest.exists() and not dest.is_dir():
        raise FeintError(f"{dest}: output path is a file, expected a folder")
    if dest.is_dir() and any(dest.iterdir()) and not (dest / CARD).exists():
        raise FeintError(f"{dest}: folder is not empty and was not written by `feint data` (no {CARD}); "
                         "pick a new or empty folder")


@contextmanager
def output_folder(dest: Path, inputs: Sequence[Path]) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it replaces `dest`, on error it is removed."""
    check_destination(dest, inputs)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.parent / f".{dest.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    backup = dest.parent / f".{dest.name}.old-{os.getpid()}"
    if dest.exists():
        os.replace(dest, backup)
    try:
        os.replace(tmp, dest)
    except BaseException:
        if backup.exists():
            os.replace(backup, dest)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def write_card(folder: Path, command: str, inputs: Sequence[Path], params: dict[str, Any],
               summary: dict[str, Any]) -> dict[str, Any]:
    """Record how the folder was made: command, inputs, parameters, counts, versions, time."""
    import feint

    card = {
        "command": command,
        "inputs": [os.path.abspath(p) for p in inputs],
        "params": params,
        "counts": summary,
        "versions": {"feint": feint.__version__, "python": platform.python_version()},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    write_json_atomic(folder / CARD, card)
    return card


def counts(dataset: Dataset) -> dict[str, Any]:
    """What a card records about a dataset: images, and images per class, split and source."""
    from collections import Counter

    per: dict[str, Any] = {
        "images": len(dataset),
        "per_class": dict(Counter(r.primary_class or "(none)" for r in dataset.records)),
        "per_source": dict(Counter(r.source for r in dataset.records)),
    }
    if dataset.splits:
        split_counts = Counter(r.split or "(none)" for r in dataset.records)
        per["per_split"] = {s: split_counts[s] for s in [*dataset.splits, "(none)"] if split_counts[s]}
    return per


def write_dataset(dataset: Dataset, out: Path, to: str, command: str, inputs: Sequence[Path],
                  params: dict[str, Any] | None = None, copy: bool = False, check: bool = False) -> list[str]:
    """Validate `dataset` (decoding every image with `check`), then write it to `out` all-or-nothing.

    Returns notes on what the format could not hold. The folder gets a card (feint-data.json).
    """
    from feint.datasets.formats import WRITABLE, save_dataset
    from feint.datasets.validate import check_dataset, check_decodes

    if to not in WRITABLE:
        raise FeintError(f"cannot write format {to!r} (writable: {', '.join(WRITABLE)})")
    check_dataset(dataset)
    if check:
        check_decodes(dataset)
    with output_folder(out, inputs) as tmp:
        notes = save_dataset(dataset, tmp, to, copy)
        write_card(tmp, command, inputs, {**(params or {}), "to": to, "copy": copy}, counts(dataset))
    return notes
