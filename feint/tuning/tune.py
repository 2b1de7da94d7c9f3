"""`feint tune`: improve a graph against a small real validation set, one Optuna trial at a time.

A trial proposes new distributions for the parameters of the search space (`space.py`), renders a small
batch of the changed graph, and scores it with a cheap signal (`score.py`); the trial loop is `tuner.py`,
parallel workers `workers.py`, the checks and repairs of a resumed run `resume.py`, what is written at the
end `outputs.py`. Trial 0 is the graph as it is: the reference every other trial is compared with.

Layout of the output folder:
    optuna.db            the Optuna study (SQLite): the resume log, shared by parallel workers
    tune.json            the card: settings, command, versions, base and best scores
    renders/KEY/         each trial's renders, a folder per class keyed by graph, class and seed (a re-run
                         trial finishes its own folders; trials that render a class alike share its folder)
    trials/NNNN.yaml     each trial's graph (`extends:` the input graph)
    trials.csv           one row per trial: state, scores, seconds, parameter values
    confirm.json         the base graph's and the best trials' second scores, on other renders
    holdout.json         the base graph's and the pick's scores on the held-out photos (`holdout`)
    best.yaml            the pick: `extends:` the input graph, sets only what changed
    report.html          score per trial, what changed from the base graph to the best, and by how much
    mlflow.db, wandb/    with --tracker mlflow or wandb: every finished trial as a run (feint/tracking.py)
    tracked.json         the trials already sent to each tracker: a re-run sends only the new ones

The pick is noise-aware and checked on photos it was not chosen by: the photos are cut by ship, a share
(`holdout`, half by default) held out of every trial; the base graph and the best trials are scored again
on a second render batch, and the best mean wins only if it beats the base graph by more than the base's
own difference between its two batches; the base and the pick are then scored on the held-out photos, on
a third batch. tune.json says whether the pick beats the base there.

Re-running the command resumes: finished trials are kept; a trial interrupted by a kill is marked failed
and run again with the same parameters; `--trials` may grow. With one worker the proposals are
reproducible (the sampler of trial k is seeded by (seed, k)); parallel workers share the SQLite study.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from feint.io import write_json_atomic
from feint.tracking import Tracker
from feint.training.device import Devices
from feint.tuning.lock import locked
from feint.tuning.resume import check_resume, prepare_study
from feint.tuning.settings import TuneSettings, make_settings
from feint.tuning.tuner import Tuner
from feint.tuning.workers import run_workers

# The entry points: `make_settings(...)` checks the inputs, `tune(settings, out)` runs; `Tuner` is one
# worker's trial loop.
__all__ = ["TuneSettings", "Tuner", "count_finished", "make_settings", "tune"]


def count_finished(study: Any) -> int:
    """Trials scored or pruned: what the progress bar shows."""
    return sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.get_trials(deepcopy=False))


def tune(
    settings: TuneSettings,
    out: Path,
    cache: Path | None = None,
    progress: bool = True,
    command: str = "",
    tracker: Tracker | None = None,
    devices: Devices | None = None,
) -> dict[str, Any]:
    """Run (or resume) a tuning run and write its outputs (with a `tracker`, also every finished trial not
    logged there yet); returns the card (tune.json). `devices`: where the trials render and score
    (`resolve_devices`; default: the graph's render.device, torch on the CPU), recorded in the card and
    not part of the settings' identity: a run may resume on another device."""
    from tqdm import tqdm

    from feint.tuning.outputs import pick, write_outputs

    started = time.perf_counter()
    devices = devices or Devices()
    tuner = Tuner(settings, out, cache, devices=devices)  # runs the trials itself with one worker
    check_resume(out, settings, tuner.merged)
    out.mkdir(parents=True, exist_ok=True)
    with locked(out / ".lock", wait=False):
        n_real = len(tuner.real(progress).labels)  # the workers find the features in the cache
        identity = settings.identity(tuner.merged)
        card = {"identity": identity, "settings": settings.model_dump(), "command": command}
        previous = json.loads((out / "tune.json").read_text()) if (out / "tune.json").is_file() else {}
        write_json_atomic(out / "tune.json", {**previous, **card})
        prepare_study(tuner)
        study = tuner.open_study()
        bar = tqdm(
            total=settings.trials,
            initial=min(count_finished(study), settings.trials),
            desc="tune",
            unit="trial",
            disable=not progress,
            dynamic_ncols=True,
        )
        with bar:

            def tick() -> None:
                bar.n = min(count_finished(study), settings.trials)
                bar.refresh()

            if settings.workers == 1:
                tuner.work(tick)
            else:
                threads = max(1, (os.cpu_count() or 1) // settings.workers)
                run_workers(settings, out, cache, threads, tick, devices)
        confirmed = tuner.confirm(study, progress) if settings.confirm else {}
        trials = study.get_trials(deepcopy=False)
        best, base = pick(trials, confirmed)
        checked = list({t.number: t for t in (base, best) if t is not None}.values())
        held = tuner.check_held_out(checked, progress)
        photos = tuner.held_out()
        if tracker is not None:
            from feint.tuning.outputs import log_trials

            log_trials(trials, out, tracker)
        return write_outputs(
            out,
            trials,
            settings,
            identity,
            tuner.graph,
            tuner.space,
            n_real,
            time.perf_counter() - started,
            command,
            confirmed,
            devices.record(),
            held,
            0 if photos is None else len(photos.labels),
        )
