"""Writing a dataset folder all-or-nothing, and the card that says how it was made.

Everything is first validated and then written aside; only when every file is there does it take the
place of the destination, under the output policy of `feint.outputs` (an earlier output is replaced only
with --overwrite, only what feint wrote is swapped, no input is ever written through).
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feint.errors import FeintError
from feint.io import write_json_atomic
from feint.outputs import Inputs, check_folder_output, folder_output

if TYPE_CHECKING:
    from feint.datasets.core import Dataset

CARD = "feint-data.json"


def dataset_inputs(roots: Sequence[Path], datasets: Sequence[Dataset]) -> Inputs:
    """What a `feint data` command reads: the datasets' roots and every image they hold."""
    return Inputs.of_datasets(roots, datasets)


def check_dataset_output(dest: Path, inputs: Inputs, overwrite: bool = False) -> None:
    """Refuse, before any work, a destination the output policy does not allow."""
    check_folder_output(dest, inputs, overwrite, CARD)


def write_card(
    folder: Path, command: str, inputs: Sequence[Path], params: dict[str, Any], summary: dict[str, Any]
) -> dict[str, Any]:
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


def write_dataset(
    dataset: Dataset,
    out: Path,
    to: str,
    command: str,
    inputs: Sequence[Path],
    params: dict[str, Any] | None = None,
    copy: bool = False,
    check: bool = False,
    overwrite: bool = False,
    sources: Sequence[Dataset] = (),
) -> list[str]:
    """Validate `dataset` (decoding every image with `check`), then write it to `out` all-or-nothing.

    `sources` are the datasets read (their images are protected, as `inputs` are). Returns notes on what
    the format could not hold. The folder gets a card (feint-data.json).
    """
    from feint.datasets.formats import save_dataset, writable_formats
    from feint.datasets.validate import check_dataset, check_decodes

    if to not in writable_formats():
        raise FeintError(f"cannot write format {to!r} (writable: {', '.join(writable_formats())})")
    check_dataset(dataset)
    if check:
        check_decodes(dataset)
    with folder_output(out, dataset_inputs(inputs, [*sources, dataset]), overwrite, CARD) as tmp:
        notes = save_dataset(dataset, tmp, to, copy)
        write_card(tmp, command, inputs, {**(params or {}), "to": to, "copy": copy}, counts(dataset))
    return notes
