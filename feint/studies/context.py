"""What the steps of one study share: its spec and data, the run store, the results table as it grows,
and what earlier steps found (the epoch fit, the zero-shot run) for the later ones.

A step asks for runs by their options (real share, seed, renders per class, mode); the context turns
them into `RunConfig`s (the epochs from the fit), trains the missing ones here or on Ray, and records one
table row per run, in plan order whichever executor ran them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from feint.studies.data import StudyData
from feint.studies.runs import RunConfig, RunLog, RunStore, renders_left_out
from feint.studies.spec import EpochSpec, StudySpec
from feint.training.device import Devices

# Called with each freshly trained run and the step it belongs to (`--tracker`: feint.tracking.study_logger).
Tracker = Callable[[str, RunConfig, dict[str, Any]], None]

# The epoch fit of a study without the epochs step: 30 epochs whatever the size, within the bounds.
DEFAULT_FIT: dict[str, Any] = {"intercept": 30.0, "slope": 0.0}


def epochs_for(epochs: EpochSpec, fit: Mapping[str, Any], n: int, rows: int | None = None) -> int:
    """Epochs for a run on `n` images: the epoch fit, within the study's bounds; a run with renders
    (`rows`: its feature rows, mirrored photos included) trains no more than `max_steps` steps."""
    from feint.training.head import HeadConfig

    line = fit["intercept"] + fit["slope"] * n
    fitted = int(np.clip(round(line), epochs.min_epochs, epochs.max_epochs))
    if rows is None:
        return fitted
    steps_per_epoch = max(1, math.ceil(rows / HeadConfig.batch))
    return max(1, min(fitted, epochs.max_steps // steps_per_epoch))


@dataclass
class StudyContext:
    spec: StudySpec
    data: StudyData
    data_key: str  # the data's fingerprint (feint/studies/fingerprint.py), part of every run's config
    out: Path
    cache: Path
    store: RunStore
    progress: bool = True
    tracker: Tracker | None = None
    executor: str = "local"
    address: str | None = None
    bar: tqdm | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)  # the results table, one row per run
    trained_on_photos: dict[str, dict[str, Any]] = field(default_factory=dict)  # results by run key
    # What the steps found, for the later steps and the study's result:
    fit: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_FIT))  # the epochs step's line
    zero_shot: dict[str, Any] | None = None  # the last zero-shot run (the failure step analyses it)
    failure: dict[str, Any] = field(default_factory=dict)
    ablations: pd.DataFrame | None = None
    # the mixing step's share of renders per batch of a mixed run, by real share (chosen on the validation
    # photos); a share without a choice takes the study file's `synthetic_weight`
    weights: dict[float, float] = field(default_factory=dict)
    devices: Devices = field(default_factory=Devices)  # where renders and torch work run (`resolve_devices`)

    def synthetic_weight(self, real_fraction: float) -> float:
        """The share of each batch drawn from renders in a mixed run with this share of the photos."""
        return self.weights.get(real_fraction, self.spec.synthetic_weight)

    def config(
        self,
        real_fraction: float,
        seed: int,
        synthetic_per_class: int = 0,
        mode: str = "merged",
        epochs: int | None = None,
        validate: bool = False,
        weight: float | None = None,
    ) -> RunConfig:
        """The run these options describe; its epochs from the fit unless given. In a study with `mode:
        finetune` every run trains the `finetuning` epochs at its rate and batch (the epoch fit is that of
        heads on features; the epochs step then reports where fine-tuning peaks). Feature alignment and
        mirrored features do not apply to it (its augmentation flips the images): they stay "none" and
        off in its config, so changing them re-runs no fine-tuning. `weight`: the share of renders per
        batch of a mixed run (default: `synthetic_weight` for the real share)."""
        s = self.spec
        weight = self.synthetic_weight(real_fraction) if weight is None else weight
        if s.mode == "finetune":
            f = s.finetuning
            return RunConfig(
                real_fraction,
                synthetic_per_class,
                mode,
                seed,
                f.epochs,
                f.lr,
                s.hidden,
                weight,
                validate,
                self.data_key,
                "none",
                False,
                s.label_smoothing,
                training="finetune",
                batch=f.batch,
            )
        n_real = len(self.data.real_subset(real_fraction, seed)) if real_fraction > 0 else 0
        # a merged run whose renders are left out (weight 0) trains as the run on its photos alone
        n_syn = (
            0
            if renders_left_out(mode, n_real, weight)
            else len(self.data.synthetic_subset(synthetic_per_class))
        )
        rows = n_real * (2 if s.mirror else 1) + n_syn if n_syn else None
        epochs = epochs or epochs_for(s.epochs, self.fit, n_real + n_syn, rows)
        return RunConfig(
            real_fraction,
            synthetic_per_class,
            mode,
            seed,
            epochs,
            s.lr,
            s.hidden,
            weight,
            validate,
            self.data_key,
            s.align,
            s.mirror,
            s.label_smoothing,
        )

    def run_all(self, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The runs of one step, (step name, `config` options) each: one after another here, or side by
        side on Ray; the rows go into the table in plan order either way."""
        cfgs = [self.config(**options) for _, options in calls]
        step_of = {cfg.key(): step for cfg, (step, _) in zip(cfgs, calls, strict=True)}
        trained = []

        def log(cfg: RunConfig, result: dict[str, Any]) -> None:  # a run just finished
            trained.append(cfg)
            if self.tracker:
                self.tracker(step_of[cfg.key()], cfg, result)
            self.advance(step_of[cfg.key()])

        if self.executor == "ray":
            results = self.store.get_or_run_many(cfgs, self.data, log, self.address)
        else:
            results = [self.store.get_or_run(cfg, self.data, log) for cfg in cfgs]
        if calls:  # the runs read from disk (a resumed study, a run shared with an earlier step)
            self.advance(calls[-1][0], len(calls) - len(trained))
        for (step, _), cfg, result in zip(calls, cfgs, results, strict=True):
            self.row(step, cfg, result)
        return results

    def log(self, step: str) -> RunLog | None:
        """A RunStore callback sending a freshly trained run of `step` to the tracker."""
        tracker = self.tracker
        if tracker is None:
            return None
        return lambda cfg, result: tracker(step, cfg, result)

    def advance(self, step: str, done: int = 1) -> None:
        """Move the progress bar on by `done` runs of `step`."""
        if self.bar is not None:
            self.bar.set_postfix_str(step)
            self.bar.update(done)

    def row(self, step: str, cfg: RunConfig, result: dict[str, Any], scored: bool = True) -> None:
        """The run's row of the results table. `scored` False: the run was scored on the validation
        photos (the mixing step's), not on the study's scored photos, so it is not among the runs whose
        mistakes make the hard photos."""
        self.rows.append(
            {
                "step": step,
                **{k: v for k, v in result["config"].items() if k != "data"},
                "n_real": result["n_real"],
                "n_synthetic": result["n_synthetic"],
                "accuracy": result["accuracy"],
                "balanced_accuracy": result["balanced_accuracy"],
                "best_epoch": result["best_epoch"],
                "run": cfg.key(),
            }
        )
        if result["n_real"] > 0 and scored:
            self.trained_on_photos[cfg.key()] = result
