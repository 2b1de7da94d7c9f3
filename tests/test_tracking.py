"""`--tracker mlflow|wandb|none` with the real packages, offline: a tiny `feint train` run logged to W&B and
to MLflow holds the same parameters, metrics and files in both (read back from what each one wrote); a
tiny study logs every run it trains; `none` writes neither store; a bad value is one line; and W&B, offline,
reaches no host but this one.

W&B 0.31 writes an offline run as one transaction log, OUT/wandb/offline-run-*/run-ID.wandb (LevelDB's log
format, each record a protobuf `wandb_internal_pb2.Record`), plus the files a run saved in files/. Neither
files/config.yaml nor files/wandb-summary.json is written offline (`wandb sync` rebuilds them from the log),
and wandb ships no Python reader of the log: `offline_runs` below reads it, checking every block's CRC."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import struct
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from feint.tracking import RUN_FILES, TrackedRun, Tracker, TrainingLog

HERE = Path(__file__).resolve().parent
if str(HERE / "training") not in sys.path:  # its helper module, as pytest puts it on the path for its tests
    sys.path.insert(0, str(HERE / "training"))

from training_helpers import make_images  # noqa: E402

ROOT = HERE.parent
# W&B's own bookkeeping in a run: not the run's numbers
WANDB_FILES = {"requirements.txt", "wandb-metadata.json", "output.log"}


# --- reading what the trackers wrote ------------------------------------------------------------------------


def _records(path: Path) -> Iterator[Any]:
    """The records of a .wandb file: a 7-byte header (':W&B', magic 0xBEE1, version 0), then LevelDB log
    blocks of 32 KiB, each chunk [crc32 of type+data, length, type] + data, a record in one chunk (type 1)
    or split over first/middle/last chunks (2, 3, 4)."""
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert struct.unpack("<4sHB", data[:7]) == (b":W&B", 0xBEE1, 0), path
    pos, parts = 7, b""
    while pos + 7 <= len(data):
        left = 32768 - pos % 32768
        crc, length, kind = struct.unpack("<IHB", data[pos : pos + 7])
        if left < 7 or (kind == 0 and length == 0):  # the zero padding at the end of a block
            pos += left if left >= 7 else left
            continue
        chunk = data[pos + 7 : pos + 7 + length]
        assert zlib.crc32(bytes([kind]) + chunk) & 0xFFFFFFFF == crc, f"{path}: corrupt chunk at {pos}"
        pos += 7 + length
        parts += chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(parts)
            parts = b""
            yield record


def _item_key(item: Any) -> str:
    return item.key or "/".join(item.nested_key)


def offline_runs(out: Path) -> list[dict[str, Any]]:
    """Every offline W&B run under out/wandb: its project, name, tags, config, summary, history by step,
    saved files and exit code, as the run's log holds them."""
    runs = []
    for folder in sorted((out / "wandb").glob("offline-run-*")):
        (log,) = folder.glob("run-*.wandb")
        run: dict[str, Any] = {"config": {}, "summary": {}, "history": {}, "files": set(), "exit": None}
        for record in _records(log):
            kind = record.WhichOneof("record_type")
            if kind == "run":
                run.update(
                    project=record.run.project, name=record.run.display_name, tags=list(record.run.tags)
                )
                run["config"].update({i.key: json.loads(i.value_json) for i in record.run.config.update})
            elif kind == "config":
                run["config"].update({i.key: json.loads(i.value_json) for i in record.config.update})
            elif kind == "summary":
                run["summary"].update({_item_key(i): json.loads(i.value_json) for i in record.summary.update})
            elif kind == "history":
                row = {_item_key(i): json.loads(i.value_json) for i in record.history.item}
                run["history"][row["_step"]] = row
            elif kind == "files":
                run["files"].update(f.path for f in record.files.files)
            elif kind == "exit":
                run["exit"] = record.exit.exit_code
        run["config"].pop("_wandb", None)
        run["summary"] = {k: v for k, v in run["summary"].items() if not k.startswith("_")}
        run["folder"] = folder
        runs.append(run)
    return runs


def finished_runs(out: Path) -> list[dict[str, Any]]:
    """`offline_runs` of runs made in this process, once W&B has written them out: `run.finish()` tells
    W&B's service that the run is done without waiting for it to close the run's log, which the end of
    the process, or `wandb.teardown()`, waits for."""
    import wandb

    wandb.teardown()
    return offline_runs(out)


def mlflow_runs(out: Path) -> list[dict[str, Any]]:
    """Every run of the MLflow store out/mlflow.db, read through MLflow's API."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    experiments = {e.experiment_id: e.name for e in client.search_experiments()}
    found = []
    for run in client.search_runs(list(experiments)):
        run_id = run.info.run_id
        found.append(
            {
                "project": experiments[run.info.experiment_id],
                "name": run.info.run_name,
                "status": run.info.status,
                "tags": {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")},
                "params": run.data.params,
                "metrics": run.data.metrics,
                "history": {
                    k: [(m.step, m.value) for m in client.get_metric_history(run_id, k)]
                    for k in run.data.metrics
                },
                "artifacts": {a.path for a in client.list_artifacts(run_id)},
                "artifact_dir": out / "mlartifacts" / run_id / "artifacts",
            }
        )
    return found


def as_param(value: Any) -> Any:
    """A configuration value as a tracker parameter: a scalar as it is, anything else as JSON text."""
    return (
        value
        if value is None or isinstance(value, bool | int | float | str)
        else json.dumps(value, sort_keys=True)
    )


# --- runs ---------------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def wandb_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """W&B as a user gets it (no WANDB_MODE), its caches and settings in this test's folder."""
    for name in ("WANDB_MODE", "WANDB_DIR", "WANDB_BASE_URL", "WANDB_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("WANDB_CACHE_DIR", "WANDB_CONFIG_DIR", "WANDB_DATA_DIR", "WANDB_ARTIFACT_DIR"):
        monkeypatch.setenv(name, str(tmp_path / "wandb-home" / name.lower()))


@pytest.fixture(scope="module")
def colours(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("colours") / "data"
    make_images(root / "train", per_class=6, seed=0)
    make_images(root / "val", per_class=2, seed=1)
    return root


def train_args(data: Path, out: Path, tracker: str | None) -> list[str]:
    """A frozen head, 2 epochs, 64 px (at 32 px the features are nearly constant): seconds."""
    args = ["train", str(data), "-o", str(out), "--split", "train", "--val-split", "val"]
    args += ["--mode", "frozen", "--epochs", "2", "--size", "64", "-q"]
    return args + (["--tracker", tracker] if tracker else [])


def run_cli(*args: str) -> tuple[int, str, str]:
    """`feint ARGS` in this process (a module fixture cannot use capsys): (exit code, stdout, stderr)."""
    from feint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(list(args))
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
    return code, out.getvalue(), err.getvalue()


class Listener:
    """A TCP server on a loopback port that records every connection made to it (and its first bytes,
    e.g. `CONNECT api.wandb.ai:443`), then closes it at once: a client trying it fails fast, never hangs."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(0.2)
        self.port = self.server.getsockname()[1]
        self.seen: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(0.5)
                try:
                    self.seen.append(conn.recv(200) or b"(nothing sent)")
                except OSError:
                    self.seen.append(b"(nothing sent)")

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        self.server.close()


# Runs `feint` with the socket module guarded: a connection to, or a name lookup of, any host but this one
# is written to FEINT_NET_LOG and refused. It covers the feint process and every thread in it, W&B's
# telemetry exporter and its exit-time flush included.
GUARD = """
import os, socket, sys
LOCAL = {None, "", "localhost", "127.0.0.1", "::1", b"localhost", b"127.0.0.1"}
def note(what):
    with open(os.environ["FEINT_NET_LOG"], "a") as f:
        f.write(what + "\\n")
def local(family, address):
    return family == socket.AF_UNIX or (isinstance(address, tuple) and address[0] in LOCAL)
for name in ("connect", "connect_ex"):
    real = getattr(socket.socket, name)
    def guarded(self, address, _real=real, _name=name):
        if not local(self.family, address):
            note(f"{_name} {address!r}")
            raise OSError("feint test: network refused")
        return _real(self, address)
    setattr(socket.socket, name, guarded)
real_lookup = socket.getaddrinfo
def lookup(host, *args, **kwargs):
    if host not in LOCAL:
        note(f"getaddrinfo {host!r}")
        raise socket.gaierror("feint test: network refused")
    return real_lookup(host, *args, **kwargs)
socket.getaddrinfo = lookup
from feint.cli import main
main(sys.argv[1:])
"""


@pytest.fixture(scope="module")
def wandb_train(colours: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`feint train ... --tracker wandb` in a fresh process, as a user runs it (exit-time hooks run too),
    with every way off this machine watched:
    - the W&B server (WANDB_BASE_URL) and any HTTP(S) proxy point at a loopback listener that counts
      connections: whatever W&B's service (a Go process the guard cannot see) or Python sends to the W&B
      API, to sentry or to any host through the environment's proxy lands there;
    - the guard above refuses and records any connection to, or name lookup of, another host in Python.
    """
    root = tmp_path_factory.mktemp("wandb-train")
    out, log = root / "run", root / "network.log"
    listener = Listener()
    url = f"http://127.0.0.1:{listener.port}"
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(("WANDB_", "NO_PROXY"))}
    env.update(
        {
            "WANDB_BASE_URL": url,
            **{k: url for k in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy")},
            "WANDB_CACHE_DIR": str(root / "wandb-cache"),
            "WANDB_CONFIG_DIR": str(root / "wandb-config"),
            "WANDB_DATA_DIR": str(root / "wandb-data"),
            "FEINT_NET_LOG": str(log),
            "FEINT_CACHE": str(root / "cache"),
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(ROOT),
        }
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", GUARD, *train_args(colours, out, "wandb")],
            env=env,
            cwd=root,
            capture_output=True,
            text=True,
            timeout=300,  # a client retrying a server it cannot reach would take longer
        )
    finally:
        listener.close()
    return {
        "out": out,
        "code": done.returncode,
        "stdout": done.stdout,
        "stderr": done.stderr,
        "connections": listener.seen,
        "network": log.read_text().splitlines() if log.is_file() else [],
    }


@pytest.fixture(scope="module")
def mlflow_train(colours: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    import torch

    out = tmp_path_factory.mktemp("mlflow-train") / "run"
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("FEINT_CACHE", str(out.parent / "cache"))
            code, stdout, stderr = run_cli(*train_args(colours, out, "mlflow"))
    finally:
        torch.set_num_threads(before)
    return {"out": out, "code": code, "stdout": stdout, "stderr": stderr}


# --- feint train --------------------------------------------------------------------------------------------


def test_wandb_offline_run_holds_the_runs_parameters_epochs_final_numbers_and_files(wandb_train):
    out = wandb_train["out"]
    assert wandb_train["code"] == 0, wandb_train["stderr"]
    (run,) = offline_runs(out)
    config = json.loads((out / "config.json").read_text())
    record = json.loads((out / "run.json").read_text())
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert run["project"] == run["name"] == "run" and run["exit"] == 0
    assert run["config"] == {k: as_param(v) for k, v in config.items()}
    assert run["config"]["mode"] == "frozen" and run["config"]["epochs"] == 2
    # every epoch at its step, the final numbers in the summary
    assert sorted(run["history"]) == [e["epoch"] for e in epochs] == [1, 2]
    for row in epochs:
        logged = run["history"][row["epoch"]]
        assert {k: logged[k] for k in ("val_loss", "val_accuracy", "train_loss", "lr")} == {
            k: row[k] for k in ("val_loss", "val_accuracy", "train_loss", "lr")
        }
    assert run["summary"]["best_epoch"] == record["best_epoch"]
    assert run["summary"]["epochs_run"] == record["epochs_run"] == 2
    assert run["summary"]["best_val_accuracy"] == record["best"]["val_accuracy"]
    assert run["summary"]["best_val_balanced_accuracy"] == record["best"]["val_balanced_accuracy"]
    assert run["summary"]["val_loss"] == epochs[-1]["val_loss"]  # the last epoch's, as W&B keeps it
    # the run folder's files, copied into the offline run
    assert set(RUN_FILES) <= run["files"]
    for name in RUN_FILES:
        assert (run["folder"] / "files" / name).read_bytes() == (out / name).read_bytes(), name


def test_train_says_once_how_to_upload_and_w_and_b_prints_nothing(wandb_train):
    lines = wandb_train["stdout"].splitlines()
    sync = [line for line in lines if "wandb sync" in line]
    where = wandb_train["out"] / "wandb"
    assert sync == [f"W&B: 1 offline run in {where}; upload it: wandb sync {where}/offline-run-*"]
    assert len(lines) == 2  # the run's line and that one
    assert "wandb:" not in wandb_train["stdout"] + wandb_train["stderr"]  # no W&B banner or warning


def test_wandb_offline_reaches_no_other_host(wandb_train):
    """Offline mode starts W&B's service, a local process spoken to over a Unix socket. Nothing else may
    leave: not a connection to the W&B server or through a proxy (the listener counts none), not a name
    lookup or connection to another host from Python (the guard records none), and the run finished
    without waiting on any of them. W&B's usage telemetry follows the process-wide settings, not the
    run's: with only the run set offline it posts to the W&B server at exit, which this test catches."""
    assert wandb_train["code"] == 0, wandb_train["stderr"]
    assert wandb_train["connections"] == [], wandb_train["connections"]
    assert wandb_train["network"] == [], wandb_train["network"]


def test_mlflow_run_holds_the_same_parameters_metrics_and_files_as_the_wandb_run(mlflow_train, wandb_train):
    out = mlflow_train["out"]
    assert mlflow_train["code"] == 0, mlflow_train["stderr"]
    (run,) = mlflow_runs(out)
    config = json.loads((out / "config.json").read_text())
    record = json.loads((out / "run.json").read_text())
    epochs = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert run["project"] == run["name"] == "run" and run["status"] == "FINISHED"
    assert run["params"] == {k: str(as_param(v)) for k, v in config.items()}
    assert run["history"]["val_loss"] == [(e["epoch"], e["val_loss"]) for e in epochs]
    assert run["metrics"]["best_epoch"] == record["best_epoch"]
    assert run["metrics"]["best_val_accuracy"] == record["best"]["val_accuracy"]
    assert run["artifacts"] == set(RUN_FILES)
    for name in RUN_FILES:
        assert (run["artifact_dir"] / name).read_bytes() == (out / name).read_bytes(), name
    line = (
        f"MLflow: 1 run in {out / 'mlflow.db'}; mlflow ui --backend-store-uri sqlite:///{out / 'mlflow.db'}"
    )
    assert mlflow_train["stdout"].splitlines()[1:] == [line]
    # the same run in both trackers: the same parameter, metric and file names
    (logged,) = offline_runs(wandb_train["out"])
    assert set(run["params"]) == set(logged["config"])
    assert set(run["metrics"]) == set(logged["summary"])
    assert run["artifacts"] == logged["files"] - WANDB_FILES


def test_tracker_none_writes_no_store(colours, tmp_path, monkeypatch, feint_cli):
    monkeypatch.setenv("FEINT_CACHE", str(tmp_path / "cache"))
    for tracker in ("none", None):  # --tracker none, and the default
        out = tmp_path / f"run-{tracker}"
        code, stdout, err = feint_cli(*train_args(colours, out, tracker))
        assert code == 0, err
        assert sorted(p.name for p in out.iterdir()) == sorted(
            {"config.json", "run.json", "metrics.jsonl", "curves.png", "best.pt", "last.pt", "data.csv"}
        )
        assert len(stdout.splitlines()) == 1 and "MLflow" not in stdout and "W&B" not in stdout


# --- the option ---------------------------------------------------------------------------------------------

COMMANDS = {
    "train": ("train", "data", "-o", "out"),
    "detect train": ("detect", "train", "data", "-o", "out"),
    "study run": ("study", "run", "ships4", "-o", "out"),
    "tune": ("tune", "marine", "--real", "data", "-o", "out"),
}


def test_every_command_that_trains_has_the_same_tracker_option():
    import typer

    from feint.cli import _register, app
    from feint.cli.options import TrackerKind
    from feint.tracking import TRACKERS

    _register()
    group = typer.main.get_command(app)
    records = set()
    for words in COMMANDS:
        command = group
        for word in words.split():
            command = command.commands[word]  # type: ignore[attr-defined]
        (option,) = [p for p in command.params if p.name == "tracker"]
        assert option.opts == ["--tracker"] and not option.secondary_opts
        records.add(
            option.get_help_record(command.make_context(words, ["x", "-o", "y"], resilient_parsing=True))
        )
    (record,) = records  # the same name, choices, help and default everywhere
    assert [k.value for k in TrackerKind] == list(TRACKERS)
    assert record[0] == "--tracker <mlflow|wandb|none>" and record[1].endswith("[default: none]")


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_bad_tracker_is_one_line_and_exit_code_2(command, tmp_path, feint_cli, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, stdout, err = feint_cli(*COMMANDS[command], "--tracker", "tensorboard")
    assert code == 2, err
    assert err.splitlines() == ["feint: error: --tracker 'tensorboard': pick one of mlflow, wandb, none"]
    assert list(tmp_path.iterdir()) == []  # refused before anything was written
    for old in ("--mlflow", "--no-mlflow"):  # the options --tracker replaces are gone
        code, _, err = feint_cli(*COMMANDS[command], old)
        assert code == 2 and len(err.splitlines()) == 1 and old in err


def test_wandb_missing_is_one_line_naming_the_extra(tmp_path, feint_cli, monkeypatch, colours):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a)
    )
    code, _, err = feint_cli(*train_args(colours, tmp_path / "run", "wandb"))
    assert code == 2 and err.splitlines() == [
        "feint: error: --tracker wandb: the wandb package is not installed; pip install 'feint[wandb]', "
        "or pick --tracker mlflow"
    ]
    assert not (tmp_path / "run").exists()


# --- a training run's log, resumed or failed ----------------------------------------------------------------


class Recorded(TrackedRun):
    def __init__(self, calls: list[tuple[Any, ...]]):
        self.calls = calls

    def log_metrics(self, metrics, step=None):
        self.calls.append(("metrics", step, dict(metrics)))

    def log_file(self, path):
        self.calls.append(("file", path.name))

    def log_dict(self, data, name):
        self.calls.append(("dict", name, data))

    def finish(self, failed=False):
        self.calls.append(("finish", failed))


class Recording(Tracker):
    kind = "recording"

    def __init__(self, out: Path):
        super().__init__(out, "p")
        self.calls: list[tuple[Any, ...]] = []

    def _start(self, name, params, tags):
        self.calls.append(("start", name, params))
        return Recorded(self.calls)

    def summary(self):
        return None


def test_a_resumed_run_logs_every_epoch_once_and_a_failed_one_is_marked(tmp_path):
    rows = [{"epoch": e, "train_loss": 1.0 / e, "seconds": 0.1, "best_epoch": 1} for e in (1, 2, 3)]
    (tmp_path / "run.json").write_text("{}")
    tracker = Recording(tmp_path)
    log = TrainingLog(tracker, "run", {"epochs": 3})
    with pytest.raises(KeyboardInterrupt), log:  # a session killed after epoch 2
        log.epochs(rows[:1])
        log.epochs(rows[:2])
        raise KeyboardInterrupt
    assert tracker.calls == [
        ("start", "run", {"epochs": 3}),
        ("metrics", 1, {"train_loss": 1.0, "seconds": 0.1}),
        ("metrics", 2, {"train_loss": 0.5, "seconds": 0.1}),
        ("finish", True),
    ]
    tracker.calls.clear()
    record = {"best_epoch": 3, "epochs_run": 3, "best": rows[2]}
    with TrainingLog(tracker, "run", {"epochs": 3}) as log:  # the resumed session: a new tracked run
        log.epochs(rows)
        log.finish(rows, record, tmp_path)
    assert [c[:2] for c in tracker.calls] == [
        ("start", "run"),
        ("metrics", 1),
        ("metrics", 2),
        ("metrics", 3),
        ("metrics", None),
        ("file", "run.json"),
        ("finish", False),
    ]
    assert tracker.calls[4][2] == {"best_epoch": 3, "epochs_run": 3, "best_train_loss": 1.0 / 3}

    tracker.calls.clear()
    with TrainingLog(tracker, "run", {}):  # a run that fails before its first epoch: nothing started
        pass
    assert tracker.calls == []


# --- studies and tuning -------------------------------------------------------------------------------------


def test_a_study_logs_every_run_it_trains_to_wandb_and_a_resumed_one_adds_none(
    tiny_spec, tmp_path, feint_cli, monkeypatch
):
    import yaml

    monkeypatch.setenv("FEINT_CACHE", str(tmp_path / "cache"))
    spec = tiny_spec.model_copy(update={"steps": ["baseline"], "baseline_fractions": [0.3, 1.0]})
    study, out = tmp_path / "tiny.yaml", tmp_path / "study"
    study.write_text(yaml.safe_dump(spec.model_dump()))
    code, stdout, err = feint_cli("study", "run", study, "-o", out, "--tracker", "wandb")
    assert code == 0, err
    results = {p.stem: json.loads(p.read_text()) for p in (out / "runs").glob("*.json")}
    logged = finished_runs(out)
    assert len(results) == len(logged) == 2
    for run in logged:
        step, _, key = run["name"].partition(":")
        result = results[key]
        assert step == "baseline" and run["project"] == "tiny" and run["tags"] == ["step:baseline"]
        assert run["exit"] == 0 and run["config"] == {k: as_param(v) for k, v in result["config"].items()}
        assert run["summary"]["accuracy"] == result["accuracy"]
        assert run["summary"]["balanced_accuracy"] == result["balanced_accuracy"]
        assert run["summary"]["recall_submarine"] == result["per_class_recall"]["submarine"]
        saved = json.loads((run["folder"] / "files" / "confusion.json").read_text())
        assert saved == {"classes": ["sailboat", "submarine"], "confusion": result["confusion"]}
        assert "requirements.txt" not in run["files"]  # short runs: no package list per run
    assert f"W&B: 2 offline runs in {out / 'wandb'}" in stdout

    code, stdout, err = feint_cli("study", "run", study, "-o", out, "--tracker", "wandb")
    assert code == 0, err
    assert len(finished_runs(out)) == 2 and "W&B" not in stdout  # nothing trained: nothing logged


@pytest.mark.parametrize("kind", ["mlflow", "wandb"])
def test_tuning_logs_each_finished_trial_once(kind, tmp_path):
    import optuna

    from feint.tracking import open_tracker
    from feint.tuning.outputs import log_trials

    space = {"camera.fill:mean": optuna.distributions.FloatDistribution(0.1, 1.0)}

    def trial(number: int, state: Any = optuna.trial.TrialState.COMPLETE) -> Any:
        made = optuna.trial.create_trial(
            params={"camera.fill:mean": 0.1 * (number + 1)},
            distributions=space,
            value=0.5 + number / 10 if state == optuna.trial.TrialState.COMPLETE else None,
            user_attrs={"accuracy": 0.6, "seconds": 2.0, "base": number == 0},
            state=state,
        )
        made.number = number
        return made

    (tmp_path / "trials").mkdir()
    (tmp_path / "trials" / "0000.yaml").write_text("extends: marine\n")
    trials = [trial(0), trial(1, optuna.trial.TrialState.FAIL), trial(2)]
    tracker = open_tracker(kind, tmp_path, "tune", short_runs=True)
    assert tracker is not None
    assert log_trials(trials, tmp_path, tracker) == 2  # the failed trial is not a run
    assert log_trials(trials, tmp_path, tracker) == 0  # a re-run: nothing twice
    assert log_trials([*trials, trial(3)], tmp_path, tracker) == 1
    if kind == "mlflow":
        runs = {r["name"]: r for r in mlflow_runs(tmp_path)}
        assert sorted(runs) == ["trial 0", "trial 2", "trial 3"]
        assert runs["trial 2"]["params"] == {"camera.fill:mean": "0.30000000000000004"}
        assert runs["trial 2"]["metrics"] == {"score": 0.7, "accuracy": 0.6, "seconds": 2.0}
        assert runs["trial 0"]["artifacts"] == {"0000.yaml"} and runs["trial 0"]["tags"]["base"] == "True"
    else:
        runs = {r["name"]: r for r in finished_runs(tmp_path)}
        assert sorted(runs) == ["trial 0", "trial 2", "trial 3"]
        assert runs["trial 2"]["config"] == {"camera.fill:mean": 0.30000000000000004}
        assert runs["trial 2"]["summary"] == {"score": 0.7, "accuracy": 0.6, "seconds": 2.0}
        assert "0000.yaml" in runs["trial 0"]["files"] and "base:True" in runs["trial 0"]["tags"]
