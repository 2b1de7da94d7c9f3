"""A classifier run's checkpoints: their format tag, how they are read back, what an epoch hands over."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from feint.run_folder import read_checkpoint

CHECKPOINT_FORMAT = "feint-classifier/1"

# What a mode's loop calls after every epoch: (weights {head, backbone, width}, loop state, whether the epoch
# is the best so far, what else last.pt needs to resume: optimiser, schedule ...). The run writes the files.
SaveEpoch = Callable[[dict[str, Any], dict[str, Any], bool, dict[str, Any]], None]


def load_checkpoint(path: Path) -> dict[str, Any]:
    return read_checkpoint(path, CHECKPOINT_FORMAT, "classifier", "a finished `feint train` run")
