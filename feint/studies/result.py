"""What a study found: its results table and what its steps worked out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from feint.studies.spec import StudySpec


@dataclass
class StudyResult:
    spec: StudySpec
    out: Path
    table: pd.DataFrame
    epoch_fit: dict[str, Any]
    headlines: dict[str, Any]
    failure: dict[str, Any] = field(default_factory=dict)
    ablations: pd.DataFrame | None = None
    hard_photos: pd.DataFrame | None = None  # test photos most runs trained on photos miss
    # where it ran: {"render": the Cycles device, "torch": the torch device} (`Devices.record`); not part of
    # any run's key, since a run on the CPU and on a GPU is the same experiment
    device: dict[str, str] = field(default_factory=dict)
    # the mixing step's share of renders per batch by real share (0: renders left out there); empty
    # without the step (every mixed run then used `synthetic_weight`)
    mixing: dict[float, float] = field(default_factory=dict)
