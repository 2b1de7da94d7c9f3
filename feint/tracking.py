"""Log runs to a tracker: MLflow (a SQLite store in the output folder) or Weights & Biases (offline, in the
output folder, unless WANDB_MODE says otherwise). `feint train`, `feint detect train`, `feint study run` and
`feint tune` take `--tracker mlflow|wandb|none`, and whichever it is, a run gets the same parameters,
metrics and files:

    tracker = open_tracker("wandb", out, "ships4")   # None for "none"
    with tracker.run("zero_shot:abc", params, tags={"step": "zero_shot"}) as run:
        run.log_metrics({"train_loss": 0.3}, step=1)    # one epoch
        run.log_metrics({"accuracy": 0.9})               # the run's final numbers
        run.log_file(out / "curves.png")
        run.log_dict({"confusion": [[3, 1], [0, 4]]}, "confusion.json")

OUT/mlflow.db opens with `mlflow ui --backend-store-uri sqlite:///OUT/mlflow.db`; offline W&B runs lie in
OUT/wandb/offline-run-* and `wandb sync` uploads them. mlflow and wandb are imported when a store is first
used, never at import: `feint --help` stays fast and works without them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import numbers
import os
import re
import shlex
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from feint.errors import FeintError

TRACKERS = ("mlflow", "wandb", "none")
# Per-epoch fields that measure the machine, not the model: logged per epoch, never as a final number.
TIMING = ("seconds", "images_per_second")
# The files of a training run's folder a tracker gets: what was asked, the record, every epoch, the curves.
RUN_FILES = ("config.json", "run.json", "metrics.jsonl", "curves.png")
_BAD_KEY = re.compile(r"[^\w\-. :/]")  # what MLflow refuses in a name; W&B gets the same names


class TrackedRun(ABC):
    """One run in a tracker, open until `finish`."""

    @abstractmethod
    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Numbers of one step (an epoch) with `step`; without it, the run's final numbers. Values that are
        not numbers are left out."""

    @abstractmethod
    def log_file(self, path: Path) -> None:
        """A copy of the file, under its own name, among the run's files."""

    @abstractmethod
    def log_dict(self, data: Any, name: str) -> None:
        """`data` as the JSON file `name` among the run's files."""

    @abstractmethod
    def finish(self, failed: bool = False) -> None:
        """Close the run: finished, or failed."""


class Tracker(ABC):
    """Where runs go: a store in `out`, runs grouped under `project` (an MLflow experiment, a W&B
    project). Nothing is written before the first run starts. `short_runs`: many runs of seconds each
    (a study's heads, tuning trials), for which a tracker skips what costs time per run."""

    kind = ""

    def __init__(self, out: Path, project: str, short_runs: bool = False):
        self.out, self.project, self.short_runs = out, project, short_runs
        self.started = 0

    def start(
        self, name: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None
    ) -> TrackedRun:
        """A new run with its parameters (a run's configuration: scalars kept, lists and mappings as JSON)."""
        self.out.mkdir(parents=True, exist_ok=True)
        run = self._start(name, {_key(k): _param(v) for k, v in params.items()}, dict(tags or {}))
        self.started += 1
        return run

    @contextmanager
    def run(
        self, name: str, params: Mapping[str, Any], tags: Mapping[str, str] | None = None
    ) -> Iterator[TrackedRun]:
        """`start` as a context: the run finishes on leaving it, as failed if an exception leaves it."""
        run = self.start(name, params, tags)
        try:
            yield run
        except BaseException:
            run.finish(failed=True)
            raise
        run.finish()

    @abstractmethod
    def _start(self, name: str, params: dict[str, Any], tags: dict[str, str]) -> TrackedRun: ...

    @abstractmethod
    def summary(self) -> str | None:
        """One line for the command's output: where the runs are and how to look at them (None before
        any run started)."""


def open_tracker(kind: str, out: Path, project: str, short_runs: bool = False) -> Tracker | None:
    """The tracker `--tracker KIND` names, logging into `out` (None for "none"); checked here, before any
    work, so that a missing package stops the command at once."""
    if kind == "none":
        return None
    if kind == "mlflow":
        return MlflowTracker(out, project, short_runs)
    if kind == "wandb":
        if importlib.util.find_spec("wandb") is None:
            raise FeintError(
                "--tracker wandb: the wandb package is not installed; pip install 'feint[wandb]', "
                "or pick --tracker mlflow"
            )
        return WandbTracker(out, project, short_runs)
    raise FeintError(f"--tracker {kind!r}: pick one of {', '.join(TRACKERS)}")


def project_name(out: Path) -> str:
    """A run's project when it has no name of its own: its output folder's name."""
    return out.resolve().name or "feint"


def _runs(n: int, kind: str = "") -> str:
    return f"{n} {kind}run{'' if n == 1 else 's'}"


def _key(name: Any) -> str:
    return _BAD_KEY.sub("_", str(name))


def _param(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        return str(value)
    return json.dumps(value, default=str, sort_keys=True)


def _numbers(metrics: Mapping[str, Any]) -> dict[str, float]:
    return {
        _key(k): float(v)
        for k, v in metrics.items()
        if isinstance(v, numbers.Real) and not isinstance(v, bool)
    }


# --- MLflow -----------------------------------------------------------------------------------------------


class MlflowTracker(Tracker):
    """OUT/mlflow.db (SQLite), artifacts in OUT/mlartifacts; one experiment per project. Runs go through
    an `MlflowClient` of this store, never MLflow's process-wide active run and tracking URI."""

    kind = "mlflow"

    def __init__(self, out: Path, project: str, short_runs: bool = False):
        super().__init__(out, project, short_runs)
        self._client: Any = None
        self._experiment = ""

    def _start(self, name: str, params: dict[str, Any], tags: dict[str, str]) -> TrackedRun:
        from mlflow.entities import Param

        if self._client is None:
            from mlflow.tracking import MlflowClient

            logging.getLogger("mlflow").setLevel(logging.WARNING)
            logging.getLogger("alembic").setLevel(logging.WARNING)
            self._client = MlflowClient(tracking_uri=f"sqlite:///{self.out.resolve() / 'mlflow.db'}")
            found = self._client.get_experiment_by_name(self.project)
            self._experiment = (
                found.experiment_id
                if found is not None  # artifacts beside the store, not in ./mlruns
                else self._client.create_experiment(
                    self.project, artifact_location=(self.out.resolve() / "mlartifacts").as_uri()
                )
            )
        run_id = self._client.create_run(self._experiment, run_name=name, tags=tags).info.run_id
        # MLflow keeps a parameter's value as text of at most 6000 characters
        values = [Param(k, str(v)[:6000]) for k, v in params.items()]
        for at in range(0, len(values), 100):  # at most 100 parameters per call
            self._client.log_batch(run_id, params=values[at : at + 100])
        return _MlflowRun(self._client, run_id)

    def summary(self) -> str | None:
        if not self.started:
            return None
        store = self.out / "mlflow.db"
        return f"MLflow: {_runs(self.started)} in {store}; mlflow ui --backend-store-uri sqlite:///{store}"


class _MlflowRun(TrackedRun):
    def __init__(self, client: Any, run_id: str):
        self.client, self.run_id = client, run_id

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        values = [Metric(k, v, now, step or 0) for k, v in _numbers(metrics).items()]
        for at in range(0, len(values), 1000):
            self.client.log_batch(self.run_id, metrics=values[at : at + 1000])

    def log_file(self, path: Path) -> None:
        self.client.log_artifact(self.run_id, str(path))

    def log_dict(self, data: Any, name: str) -> None:
        self.client.log_dict(self.run_id, data, name)

    def finish(self, failed: bool = False) -> None:
        self.client.set_terminated(self.run_id, status="FAILED" if failed else "FINISHED")


# --- Weights & Biases -------------------------------------------------------------------------------------


class WandbTracker(Tracker):
    """W&B runs in OUT/wandb, offline unless the user set WANDB_MODE: `wandb sync` uploads them later.
    W&B prints nothing (silent, console capture off): its own logs are in OUT/wandb/debug*.log."""

    kind = "wandb"

    def __init__(self, out: Path, project: str, short_runs: bool = False):
        super().__init__(out, project, short_runs)
        self.chosen = bool(os.environ.get("WANDB_MODE"))  # the user's own choice of mode stands
        self.mode = os.environ.get("WANDB_MODE") or "offline"

    def _start(self, name: str, params: dict[str, Any], tags: dict[str, str]) -> TrackedRun:
        import wandb

        quiet: dict[str, Any] = {"console": "off", "silent": True}
        if not self.chosen and not self.started:
            # The process-wide settings, not only the run's: W&B's own usage telemetry follows them, and
            # with a run alone set offline it still posts to the W&B server (tests/test_tracking.py).
            wandb.setup(settings=wandb.Settings(mode="offline", **quiet))
        run_settings = dict(quiet)
        if self.short_runs:  # no system-metrics process and no package list per run: ~0.03 s, not ~0.5 s
            run_settings.update(x_disable_stats=True, x_save_requirements=False)
        try:
            run = wandb.init(
                project=re.sub(r"[/\\#?%:]", "-", self.project)[:128],
                name=name,
                dir=str(self.out.resolve()),
                config=params,
                tags=[f"{k}:{v}"[:64] for k, v in tags.items()],
                reinit="create_new",  # other runs of the process (a caller's own) stay as they are
                settings=wandb.Settings(**run_settings),
                mode=None if self.chosen else "offline",
            )
        except Exception as err:  # noqa: BLE001 - login, server, settings: one line, whatever W&B raised
            first = (str(err).strip().splitlines() or [type(err).__name__])[0]
            fix = f"; WANDB_MODE={self.mode}: check `wandb login`, or unset WANDB_MODE to log offline"
            raise FeintError(
                f"--tracker wandb: W&B did not start a run ({first}){fix if self.chosen else ''}"
            ) from None
        return _WandbRun(run)

    def summary(self) -> str | None:
        if not self.started:
            return None
        if self.mode == "offline":
            runs = shlex.quote(str(self.out / "wandb")) + "/offline-run-*"
            them = "it" if self.started == 1 else "them"
            where = self.out / "wandb"
            return f"W&B: {_runs(self.started, 'offline ')} in {where}; upload {them}: wandb sync {runs}"
        return f"W&B: {_runs(self.started)} in project {self.project} (WANDB_MODE={self.mode})"


class _WandbRun(TrackedRun):
    def __init__(self, run: Any):
        self.run = run

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        values = _numbers(metrics)
        if step is None:
            self.run.summary.update(values)
        else:
            self.run.log(values, step=step)

    def _save(self, copy: Path) -> None:
        """Publish a file already in the run's files folder (offline: recorded for `wandb sync`)."""
        self.run.save(str(copy), base_path=self.run.dir, policy="now", glob=False)

    def log_file(self, path: Path) -> None:
        copy = Path(self.run.dir) / path.name  # a copy: the offline run stands alone
        shutil.copyfile(path, copy)
        self._save(copy)

    def log_dict(self, data: Any, name: str) -> None:
        copy = Path(self.run.dir) / name
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text(json.dumps(data, indent=1, default=str))
        self._save(copy)

    def finish(self, failed: bool = False) -> None:
        self.run.finish(exit_code=1 if failed else 0)


# --- what a training run and a study run log --------------------------------------------------------------


def epoch_metrics(row: Mapping[str, Any]) -> dict[str, Any]:
    """An epoch's row of metrics.jsonl as the numbers of its step (the epoch is the step; the best epoch
    so far is a final number)."""
    return {k: v for k, v in row.items() if k not in ("epoch", "best_epoch")}


def final_metrics(record: Mapping[str, Any]) -> dict[str, Any]:
    """A finished training run's numbers (run.json): its best epoch, the epochs run and the best epoch's
    metrics as best_<name>."""
    best = record.get("best") or {}
    return {
        "best_epoch": record.get("best_epoch"),
        "epochs_run": record.get("epochs_run"),
        **{f"best_{k}": v for k, v in best.items() if k not in ("epoch", "best_epoch", "lr", *TIMING)},
    }


class TrainingLog:
    """A training run (`feint train`, `feint detect train`) in a tracker: every epoch as it ends (after a
    resume, the epochs of the interrupted session first), then the final numbers and the run folder's
    files. The tracked run starts with the first epoch logged, so nothing is written into the run folder
    before the run has made it; without a tracker nothing happens at all. As a context, an exception
    leaving it marks a started run failed."""

    def __init__(self, tracker: Tracker | None, name: str, params: Mapping[str, Any]):
        self.tracker, self.name, self.params = tracker, name, dict(params)
        self.run: TrackedRun | None = None
        self.logged = 0

    def _started(self) -> TrackedRun | None:
        if self.run is None and self.tracker is not None:
            self.run = self.tracker.start(self.name, self.params)
        return self.run

    def epochs(self, history: Sequence[Mapping[str, Any]]) -> None:
        """Log the rows of `history` (metrics.jsonl) not logged yet."""
        run = self._started()
        if run is None:
            return
        for row in history[self.logged :]:
            run.log_metrics(epoch_metrics(row), step=int(row["epoch"]))
        self.logged = len(history)

    def finish(self, history: Sequence[Mapping[str, Any]], record: Mapping[str, Any], folder: Path) -> None:
        """The finished run: any epochs not logged yet, the final numbers (run.json), the RUN_FILES of its
        folder."""
        run = self._started()
        if run is None:
            return
        self.epochs(history)
        run.log_metrics(final_metrics(record))
        for name in RUN_FILES:
            if (folder / name).is_file():
                run.log_file(folder / name)
        run.finish()
        self.run = self.tracker = None  # finished: leaving the context changes nothing

    def __enter__(self) -> TrainingLog:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        if err is not None and self.run is not None:
            self.run.finish(failed=True)
            self.run = None


class KeyedConfig(Protocol):
    """A run's configuration, named by its key (a study's `RunConfig`)."""

    def key(self) -> str: ...


def study_logger(tracker: Tracker) -> Callable[[str, KeyedConfig, dict[str, Any]], None]:
    """A study's callback logging each run it trains: its config as parameters, its scores, its confusion
    matrix."""

    def log(step: str, cfg: KeyedConfig, result: dict[str, Any]) -> None:
        with tracker.run(f"{step}:{cfg.key()}", result["config"], tags={"step": step}) as run:
            run.log_metrics(
                {
                    "accuracy": result["accuracy"],
                    "balanced_accuracy": result["balanced_accuracy"],
                    "n_real": result["n_real"],
                    "n_synthetic": result["n_synthetic"],
                    "best_epoch": result["best_epoch"],
                    **{f"recall_{c}": v for c, v in result["per_class_recall"].items()},
                }
            )
            run.log_dict({"classes": result["classes"], "confusion": result["confusion"]}, "confusion.json")

    return log
