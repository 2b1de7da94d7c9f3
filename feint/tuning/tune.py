"""`feint tune`: improve a graph against a small real validation set, one Optuna trial at a time.

A trial proposes new distributions for the parameters of the search space (`space.py`), renders a small
batch of the changed graph, and scores it with a cheap signal (`score.py`). Trial 0 is the graph as it
is: the reference every other trial is compared with. Every trial renders the same image seeds, so two
trials differ by their distributions only, not by luck of the draw.

Layout of the output folder:
    optuna.db            the Optuna study (SQLite): the resume log, shared by parallel workers
    tune.json            the card: settings, command, versions, base and best scores
    renders/KEY/         each trial's renders, keyed by graph (a re-run trial finishes its own folder)
    trials/NNNN.yaml     each trial's graph (`extends:` the input graph)
    trials.csv           one row per trial: state, scores, seconds, parameter values
    best.yaml            the best graph: `extends:` the input graph, sets only what changed
    report.html          score per trial, what changed from the base graph to the best, and by how much

Re-running the command resumes: finished trials are kept; a trial interrupted by a kill is marked failed
and run again with the same parameters; `--trials` may grow. With one worker the proposals are
reproducible (the sampler of trial k is seeded by (seed, k)); parallel workers share the SQLite study.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import multiprocessing
import os
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from feint.errors import FeintError
from feint.graph.loader import load_graph, load_graph_dict
from feint.graph.overrides import apply_overrides, validate_graph, write_extending_graph
from feint.io import write_json_atomic
from feint.studies.data import Part, render_balanced
from feint.training.align import AlignmentField
from feint.tuning.score import (
    domain_gap,
    objective_value,
    real_part,
    render_part,
    resolve_classes,
    zero_shot,
)
from feint.tuning.space import SearchSpace, build_space

STUDY_NAME = "tune"
DONE_STATES = ("COMPLETE", "PRUNED", "RUNNING")  # count towards --trials (a failed trial is run again)


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

    def identity(self, base_graph: dict[str, Any]) -> dict[str, Any]:
        data = self.model_dump(exclude={"trials", "workers", "confirm"})
        data["graph_sha"] = hashlib.sha1(
            json.dumps(base_graph, sort_keys=True, default=str).encode()
        ).hexdigest()
        return json.loads(json.dumps(data))


@contextmanager
def _locked(path: Path, wait: bool = True) -> Iterator[None]:
    """An exclusive lock on `path` (a file beside the study); `wait=False` fails at once if it is held."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise FeintError(f"{path.parent}: another `feint tune` is running on this folder") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _quiet_optuna() -> Any:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # multivariate TPE
    return optuna


@dataclass
class Tuner:
    """Everything a trial needs, rebuilt from the settings in every worker process."""

    settings: TuneSettings
    out: Path
    cache: Path | None = None
    threads: int | None = None  # Cycles threads of a trial's render (None: all cores)

    def __post_init__(self) -> None:
        s = self.settings
        self.graph = load_graph(s.graph)
        self.merged, _ = load_graph_dict(s.graph)
        self.space: SearchSpace = build_space(s.space, self.graph, "search space")
        self._real: Part | None = None

    def real(self, progress: bool = False) -> Part:
        """The real validation images with their features (computed once, then read from the cache)."""
        if self._real is None:
            s = self.settings
            self._real, _ = real_part(
                s.real, s.split, s.classes, s.backbone, s.image_size, self.cache, progress
            )
        return self._real

    def open_study(self) -> Any:
        optuna = _quiet_optuna()
        self.out.mkdir(parents=True, exist_ok=True)
        return optuna.create_study(
            storage=f"sqlite:///{(self.out / 'optuna.db').resolve()}",
            study_name=STUDY_NAME,
            direction="maximize",
            load_if_exists=True,
        )

    def sampler(self, index: int) -> Any:
        """The sampler for the trial `index`: seeded by (seed, index), so a resumed run proposes what an
        uninterrupted one would have."""
        optuna = _quiet_optuna()
        startup = min(10, max(2, self.settings.trials // 3))
        return optuna.samplers.TPESampler(
            seed=self.settings.seed * 100_003 + index,
            n_startup_trials=startup,
            multivariate=True,
            constant_liar=True,
        )

    # ----- one trial ------------------------------------------------------------------------------
    def overrides(self, trial: Any) -> dict[str, Any]:
        """The trial's dotted graph overrides: none for the base trial (the graph as it is)."""
        if trial.user_attrs.get("base"):
            return {}
        return self.space.overrides(trial.params)

    def run_trial(self, study: Any, trial: Any) -> None:
        """Render, score and record one trial; a proposal that makes no valid graph is pruned."""
        from optuna.trial import TrialState

        s = self.settings
        started = time.perf_counter()
        try:
            overrides = self.overrides(trial)
            merged = apply_overrides(self.merged, overrides)
            validate_graph(merged)
        except FeintError as err:
            trial.set_user_attr("invalid", str(err))
            study.tell(trial, state=TrialState.PRUNED)
            return
        scores, root = self.score(merged, s.seed)
        value = objective_value(s.objective, scores)
        note = f"feint tune trial {trial.number}: {s.objective} score {value:.4f}"
        write_extending_graph(self.out / "trials" / f"{trial.number:04d}.yaml", s.graph, overrides, note)
        attrs = {
            "accuracy": scores["accuracy"],
            "balanced_accuracy": scores["balanced_accuracy"],
            "gap": scores["gap"],
            "per_class_recall": dict(zip(s.classes, scores["per_class_recall"], strict=True)),
            "renders": root.name,
            "seconds": round(time.perf_counter() - started, 2),
        }
        for key, attr in attrs.items():
            trial.set_user_attr(key, attr)
        study.tell(trial, value)

    def score(self, merged: dict[str, Any], seed: int) -> tuple[dict[str, Any], Path]:
        """Render the graph's images for `seed` (cached by graph and seed) and score them."""
        s = self.settings
        root = render_balanced(
            merged, s.classes, s.per_class, s.size, seed, self.out, 1, self.threads, progress=False
        )
        synthetic = render_part(root, s.classes, s.per_class, s.backbone, s.image_size, self.cache)
        scores = zero_shot(synthetic, self.real(), len(s.classes), s.head_seeds, align=s.align)
        scores["gap"] = domain_gap(self.real(), synthetic, len(s.classes))
        return scores, root

    def confirm(self, study: Any, progress: bool = False) -> dict[int, float]:
        """Score the base graph and the `confirm` best trials again on other images (render seed + 1):
        with a few dozen renders per class the top of a trial table is partly luck (the winner's curse),
        and the mean of two independent scores picks the best graph more reliably. Kept in
        confirm.json, so a resumed run re-scores nothing."""
        path = self.out / "confirm.json"
        done = {int(k): v for k, v in json.loads(path.read_text()).items()} if path.is_file() else {}
        complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        ranked = sorted(complete, key=lambda t: (-t.value, t.number))
        picks = [t for t in complete if t.user_attrs.get("base")][:1]
        picks += [t for t in ranked if not t.user_attrs.get("base")][: self.settings.confirm]
        from tqdm import tqdm

        for t in tqdm(picks, desc="confirm", unit="trial", disable=not progress, dynamic_ncols=True):
            if t.number not in done:
                merged = apply_overrides(self.merged, self.overrides(t))
                scores, _ = self.score(merged, self.settings.seed + 1)
                done[t.number] = objective_value(self.settings.objective, scores)
                write_json_atomic(path, {str(k): v for k, v in sorted(done.items())})
        return done

    def work(self, on_trial: Callable[[], None] | None = None) -> None:
        """Run trials until `trials` are finished or running (shared with any parallel worker)."""
        from optuna.trial import TrialState

        study = self.open_study()
        distributions = self.space.distributions()
        counted = tuple(getattr(TrialState, name) for name in DONE_STATES)
        while True:
            with _locked(self.out / ".ask.lock"):
                trials = study.get_trials(deepcopy=False)
                if sum(t.state in counted for t in trials) >= self.settings.trials:
                    return
                study.sampler = self.sampler(len(trials))
                trial = study.ask(distributions)
            self.run_trial(study, trial)  # a crash leaves it RUNNING: the next start re-runs it
            if on_trial is not None:
                on_trial()


def _worker(settings: TuneSettings, out: Path, cache: Path | None, threads: int) -> None:
    """Entry point of a parallel worker process."""
    import torch

    torch.set_num_threads(threads)
    Tuner(settings, out, cache, threads).work()


def prepare_study(tuner: Tuner) -> dict[str, int]:
    """Before any worker starts: enqueue the base trial into a new study; mark trials left RUNNING by a
    kill as failed and enqueue them again with the same parameters. Returns counts for the log line."""
    from optuna.trial import TrialState

    study = tuner.open_study()
    trials = study.get_trials(deepcopy=False)
    if not trials:
        study.enqueue_trial(tuner.space.base_params(), user_attrs={"base": True})
        return {"new": 1, "rerun": 0}
    stale = [t for t in trials if t.state == TrialState.RUNNING]
    for t in stale:
        study.tell(t.number, state=TrialState.FAIL)
        attrs = {"rerun_of": t.number, **({"base": True} if t.user_attrs.get("base") else {})}
        study.enqueue_trial(t.params, user_attrs=attrs)
    return {"new": 0, "rerun": len(stale)}


def make_settings(
    graph: str,
    real: str | Path,
    split: str | None = None,
    classes: list[str] | None = None,
    space: Path | None = None,
    **options: Any,
) -> TuneSettings:
    """Check the inputs (graph, real data, classes, space) and resolve them into settings."""
    from feint.datasets import load_dataset
    from feint.graph.loader import BUILTIN_GRAPHS
    from feint.tuning.space import load_space

    ref = graph if graph in BUILTIN_GRAPHS else str(Path(graph).resolve())
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


def check_resume(out: Path, settings: TuneSettings, base_graph: dict[str, Any]) -> None:
    """A folder with trials must have been tuned with the same settings (all but trials and workers)."""
    card = out / "tune.json"
    if not out.exists():
        return
    if not out.is_dir():
        raise FeintError(f"{out}: output path is a file, expected a folder")
    if not card.is_file():
        if any(out.iterdir()):
            raise FeintError(f"{out}: not a feint tune folder (no tune.json); pick an empty or new folder")
        return
    before = json.loads(card.read_text())["identity"]
    now = settings.identity(base_graph)
    changed = [k for k in now if before.get(k) != now[k]]
    if changed:
        raise FeintError(
            f"{out}: tuned before with different {', '.join(changed)}; pick a new folder (only --trials "
            "and --workers may change when resuming)"
        )


def count_finished(study: Any) -> int:
    """Trials scored or pruned: what the progress bar shows."""
    return sum(t.state.name in ("COMPLETE", "PRUNED") for t in study.get_trials(deepcopy=False))


def tune(
    settings: TuneSettings,
    out: Path,
    cache: Path | None = None,
    progress: bool = True,
    command: str = "",
    mlflow: bool = False,
) -> dict[str, Any]:
    """Run (or resume) a tuning run and write its outputs (with `mlflow`, also every finished trial to
    the MLflow store in `out`); returns the card (tune.json)."""
    from tqdm import tqdm

    from feint.tuning.outputs import write_outputs

    started = time.perf_counter()
    tuner = Tuner(settings, out, cache)  # runs the trials itself with one worker
    check_resume(out, settings, tuner.merged)
    out.mkdir(parents=True, exist_ok=True)
    with _locked(out / ".lock", wait=False):
        n_real = len(tuner.real(progress).labels)  # the workers find the features in the cache
        card = {
            "identity": settings.identity(tuner.merged),
            "settings": settings.model_dump(),
            "command": command,
        }
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
                _run_parallel(settings, out, cache, max(1, (os.cpu_count() or 1) // settings.workers), tick)
        confirmed = tuner.confirm(study, progress) if settings.confirm else {}
        if mlflow:
            from feint.tuning.outputs import log_to_mlflow

            log_to_mlflow(study, out)
        return write_outputs(tuner, study, n_real, time.perf_counter() - started, command, confirmed)


def _run_parallel(
    settings: TuneSettings, out: Path, cache: Path | None, threads: int, tick: Callable[[], None]
) -> None:
    """`workers` processes, each running trials until the study has enough; a failed worker stops all."""
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(target=_worker, args=(settings, out, cache, threads), daemon=False)
        for _ in range(settings.workers)
    ]
    for p in procs:
        p.start()
    try:
        while any(p.is_alive() for p in procs):
            time.sleep(1.0)
            tick()
            if any(p.exitcode not in (None, 0) for p in procs):
                break
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    tick()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise FeintError(f"a tuning worker failed (exit codes {failed}); run the command again to resume")
