"""What a tuning run is asked for (`TuneSettings`), checked and resolved from the command's inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from feint.errors import FeintError
from feint.graph.loader import load_graph
from feint.training.align import AlignmentField
from feint.tuning.score import resolve_classes


class TuneSettings(BaseModel):
    """What a tuning run is asked for. All but `trials` and `workers` must match when it resumes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    graph: str = Field(description="built-in graph name, or the absolute path of a graph file")
    real: str = Field(description="real validation images (never the test set)")
    split: str | None = None
    classes: list[str]
    space: dict[str, Any] = Field(description="the resolved search space (bounds filled in)")
    objective: Literal["zero-shot", "gap", "both"] = "zero-shot"
    per_class: int = Field(12, ge=1)
    size: int = Field(128, ge=16)
    seed: int = 0
    backbone: str = "efficientnet_lite0"
    image_size: int = Field(224, ge=16)
    head_seeds: list[int] = [0, 1, 2]
    align: AlignmentField = "auto"  # score zero-shot as the study does (feint/training/align.py)
    trials: int = Field(20, ge=1)
    workers: int = Field(1, ge=1)
    confirm: int = Field(3, ge=0)  # best trials scored again on other renders before one is picked
    # share of the photos' groups (ships) held out of every trial: the base graph and the pick are scored
    # on them at the end, on renders no trial saw (0: no held-out check)
    holdout: float = Field(0.5, ge=0, lt=1)

    def identity(self, base_graph: dict[str, Any]) -> dict[str, Any]:
        data = self.model_dump(exclude={"trials", "workers", "confirm"})
        if not self.holdout:  # the identity of runs made before the held-out check existed
            del data["holdout"]
        data["graph_sha"] = hashlib.sha1(
            json.dumps(base_graph, sort_keys=True, default=str).encode()
        ).hexdigest()
        return json.loads(json.dumps(data))


def make_settings(
    graph: str,
    real: str | Path,
    split: str | None = None,
    classes: list[str] | None = None,
    space: Path | None = None,
    **options: Any,
) -> TuneSettings:
    """Check the inputs (graph, real data, classes, space) and resolve them into settings."""
    from feint.channels import builtin_graph_names
    from feint.datasets import load_dataset
    from feint.tuning.space import load_space

    ref = graph if graph in builtin_graph_names() else str(Path(graph).resolve())
    loaded = load_graph(ref)
    resolved = load_space(space, loaded).to_yaml()
    if split == "test":
        raise FeintError(
            "--split test: tune on a validation split of the real training data, never on the test set"
        )
    dataset = load_dataset(Path(real), None, split)
    if split is None and dataset.splits:
        raise FeintError(
            f"{real}: the data has splits ({', '.join(dataset.splits)}): pick the validation split with "
            "--split (never the test split)"
        )
    names = resolve_classes(loaded, dataset, classes, real)
    return TuneSettings(
        graph=ref, real=str(Path(real).resolve()), split=split, classes=names, space=resolved, **options
    )
