"""`train(TrainConfig)` end to end on tiny images: loss falls, the run folder, resume equals an
uninterrupted run, `--init` from another run, and the `feint train` command with its one-line errors."""

from __future__ import annotations

import contextlib
import inspect
import io
import json
import re
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import torch
from training_helpers import feint, make_images

from feint.cli import main
from feint.errors import FeintError
from feint.training import run as run_mod
from feint.training.run import TrainConfig, load_checkpoint, train

TIMING = ("seconds", "images_per_second")  # the only fields of metrics.jsonl allowed to differ
RUN_FILES = ("config.json", "run.json", "metrics.jsonl", "curves.png", "best.pt", "last.pt", "data.csv")


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One image/feature cache for the module: the runs share images, as real runs do."""
    return tmp_path_factory.mktemp("cache")


def config(data: Path, out: Path, cache: Path, **kw: Any) -> TrainConfig:
    # 64 px: at 32 px efficientnet_lite0's pooled features are nearly constant and nothing can be learnt.
    base: dict[str, Any] = dict(
        data=[str(data)],
        out=str(out),
        split="train",
        val_split="val",
        size=64,
        batch=8,
        epochs=3,
        seed=0,
        cache=str(cache),
        progress=False,
    )
    return TrainConfig(**{**base, **kw})


def history(out: Path, timing: bool = False) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return rows if timing else [{k: v for k, v in h.items() if k not in TIMING} for h in rows]


def tensors_equal(a: dict[str, torch.Tensor] | None, b: dict[str, torch.Tensor] | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# --- a fine-tuning run -------------------------------------------------------------------------------


FINETUNE = dict(mode="finetune", epochs=3, lr=1e-3, batch=12)


@pytest.fixture(scope="module")
def finetune_run(
    colours: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[TrainConfig, dict[str, Any]]:
    """One uninterrupted fine-tuning run (3 epochs), shared by the tests that need one."""
    cfg = config(colours, tmp_path_factory.mktemp("finetune") / "run", shared_cache, **FINETUNE)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as the one_thread fixture, which a module fixture comes before
    try:
        return cfg, train(cfg)
    finally:
        torch.set_num_threads(before)


def test_finetune_run_learns_and_fills_its_folder(finetune_run: tuple[TrainConfig, dict[str, Any]]) -> None:
    cfg, record = finetune_run
    out = Path(cfg.out)

    for name in RUN_FILES:
        assert (out / name).is_file(), f"{name} missing from the run folder"
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    rows = history(out, timing=True)
    assert [h["epoch"] for h in rows] == [1, 2, 3]
    # Epoch means of the training loss are noisy (36 augmented images drawn with replacement, 3 batches):
    # a modest margin there, a firm one on the fixed validation images.
    assert rows[-1]["train_loss"] < 0.9 * rows[0]["train_loss"], [h["train_loss"] for h in rows]
    assert rows[-1]["val_loss"] < 0.7 * rows[0]["val_loss"], [h["val_loss"] for h in rows]
    assert rows[-1]["train_accuracy"] > rows[0]["train_accuracy"]
    assert all(h["images_per_second"] > 0 for h in rows)

    assert record["status"] == "done" and record["mode"] == "finetune"
    assert record["epochs_run"] == 3
    assert record == json.loads((out / "run.json").read_text())
    assert record["best"] == rows[record["best_epoch"] - 1]
    assert rows[-1]["best_epoch"] == record["best_epoch"]
    assert json.loads((out / "config.json").read_text())["lr"] == 1e-3

    table = pd.read_csv(out / "data.csv")
    assert (record["data"]["train"], record["data"]["val"]) == (36, 12)
    assert len(table) == 48 and (table["part"] == "val").sum() == 12
    assert table.loc[table.part == "val", "file"].str.contains("/val/").all()
    assert set(table["part"]) == {"train", "val"}
    assert not set(table.loc[table.part == "train", "group"]) & set(table.loc[table.part == "val", "group"])
    assert sorted(set(table["class"])) == record["classes"] == ["blue", "green", "red"]

    best, last = load_checkpoint(out / "best.pt"), load_checkpoint(out / "last.pt")
    assert best["epoch"] == record["best_epoch"] and last["epoch"] == 3 and last["finished"]
    assert best["state"]["backbone"] is not None  # fine-tuning stores the backbone it trained
    assert best["classes"] == record["classes"] and best["size"] == 64


# --- resume after a kill ----------------------------------------------------------------------------


class Killed(Exception):
    """Stands in for the process being killed right after a checkpoint was written."""


def kill_after(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    real = run_mod.save_checkpoint

    def save(obj: dict[str, Any], path: Path) -> None:
        real(obj, path)
        if path.name == "last.pt" and obj["epoch"] == epoch:
            raise Killed

    monkeypatch.setattr(run_mod, "save_checkpoint", save)


@pytest.mark.parametrize("mode, kill_at", [("frozen", 2), ("finetune", 1)])
def test_resumed_run_ends_with_the_numbers_of_an_uninterrupted_one(
    mode: str,
    kill_at: int,
    colours: Path,
    shared_cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    if mode == "finetune":
        whole, _ = request.getfixturevalue("finetune_run")
        settings: dict[str, Any] = FINETUNE
    else:
        settings = dict(mode="frozen", epochs=4, hidden=16)  # an MLP head: its dropout draws matter too
        whole = config(colours, tmp_path / "whole", shared_cache, **settings)
        train(whole)
    epochs = settings["epochs"]
    split = config(colours, tmp_path / "split", shared_cache, **settings)

    with monkeypatch.context() as m:
        kill_after(m, kill_at)
        with pytest.raises(Killed):
            train(split)
    split_out = Path(split.out)
    assert len(history(split_out)) == kill_at
    assert json.loads((split_out / "run.json").read_text())["status"] == "running"
    with pytest.raises(FeintError, match="run folder exists; pass --resume"):
        train(split)

    resumed = train(split, resume=True)
    assert resumed["resumed_at_epoch"] == kill_at
    expected = history(Path(whole.out))
    assert len(expected) == epochs
    assert history(split_out) == expected
    for name in ("best.pt", "last.pt"):
        a, b = load_checkpoint(Path(whole.out) / name), load_checkpoint(split_out / name)
        assert a["epoch"] == b["epoch"]
        assert tensors_equal(a["state"]["head"], b["state"]["head"])
        assert tensors_equal(a["state"]["backbone"], b["state"]["backbone"])

    # A finished run asked to resume returns its record and trains nothing.
    before = (split_out / "metrics.jsonl").stat().st_mtime_ns
    again = train(split, resume=True)
    assert again["best"] == resumed["best"] and again["status"] == "done"
    assert (split_out / "metrics.jsonl").stat().st_mtime_ns == before


# --- --init ------------------------------------------------------------------------------------------


def test_init_starts_from_the_other_runs_head_matched_by_class_name(
    colours: Path, shared_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import feint.training.frozen as frozen_mod
    import feint.training.head as head_mod

    source = tmp_path / "source"
    train(config(colours, source, shared_cache, mode="frozen", epochs=6))
    theirs = load_checkpoint(source / "best.pt")

    start: dict[str, torch.Tensor] = {}
    real_train_head = head_mod.train_head

    def spy(*args: Any, **kw: Any) -> Any:
        head = inspect.signature(real_train_head).bind(*args, **kw).arguments["head"]
        start.update({k: v.clone() for k, v in head.state_dict().items()})
        return real_train_head(*args, **kw)

    order = ["red", "green", "blue"]  # another class order than the source's (blue, green, red)
    with monkeypatch.context() as m:
        m.setattr(frozen_mod, "train_head", spy)  # the frozen run's loop calls it by this name
        warm = train(
            config(
                colours,
                tmp_path / "warm",
                shared_cache,
                mode="frozen",
                epochs=2,
                classes=order,
                init=str(source),
            )
        )
    assert warm["classes"] == order and theirs["classes"] == ["blue", "green", "red"]
    for name in ("0.mean", "0.std"):
        assert torch.equal(start[name], theirs["state"]["head"][name])
    for c in order:
        mine, src = order.index(c), theirs["classes"].index(c)
        assert torch.equal(start["2.weight"][mine], theirs["state"]["head"]["2.weight"][src]), c
        assert torch.equal(start["2.bias"][mine], theirs["state"]["head"]["2.bias"][src]), c

    cold = train(config(colours, tmp_path / "cold", shared_cache, mode="frozen", epochs=2, classes=order))
    warm_first, cold_first = history(tmp_path / "warm")[0], history(tmp_path / "cold")[0]
    assert warm_first["val_loss"] < cold_first["val_loss"]
    assert warm_first["train_loss"] < cold_first["train_loss"]
    assert cold["data"] == warm["data"]  # same images: the difference is the start


def test_init_from_a_run_with_another_backbone_is_refused(
    colours: Path, shared_cache: Path, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    train(config(colours, source, shared_cache, mode="frozen", epochs=1))
    wrong = (
        f"--init {re.escape(str(source))}: its backbone is timm:efficientnet_lite0, "
        "this run's torchvision:mobilenet_v2"
    )
    with pytest.raises(FeintError, match=wrong):
        train(
            config(
                colours,
                tmp_path / "other",
                shared_cache,
                mode="frozen",
                epochs=1,
                backbone="mobilenet_v2",
                init=str(source),
            )
        )


# --- the command line -------------------------------------------------------------------------------


CliRun = tuple[Path, list[str], int, str]


def one_error_line(code: int, out: str, err: str) -> str:
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feint: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def cli_run(colours: Path, shared_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> CliRun:
    """A run made by `feint train` (frozen, 2 epochs): folder, options, exit code, what it printed."""
    out = tmp_path_factory.mktemp("cli") / "run"
    options = [
        str(colours),
        "-o",
        str(out),
        "--split",
        "train",
        "--val-split",
        "val",
        "--mode",
        "frozen",
        "--epochs",
        "2",
        "--size",
        "64",
        "--batch",
        "8",
        "--cache",
        str(shared_cache),
        "--quiet",
    ]
    printed = io.StringIO()
    with pytest.MonkeyPatch.context() as m, contextlib.redirect_stdout(printed):
        m.setattr(sys, "argv", ["feint", "train", *options])
        with pytest.raises(SystemExit) as done:
            main()
    return out, options, done.value.code, printed.getvalue()


def test_feint_train_makes_a_run_and_prints_a_summary(cli_run: CliRun) -> None:
    out, _, code, text = cli_run
    assert code == 0, text
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "done" and record["mode"] == "frozen" and record["epochs_run"] == 2
    assert json.loads((out / "config.json").read_text())["progress"] is False
    # The summary line, against the run's own record.
    found = re.fullmatch(
        r"(.+): frozen, (\d+) training images, best epoch (\d+)/(\d+); validation accuracy "
        r"([\d.]+), balanced ([\d.]+); [\d.]+ s\n",
        text,
    )
    assert found, text
    assert found[1] == str(out)
    assert int(found[2]) == record["data"]["train"] == 36
    assert (int(found[3]), int(found[4])) == (record["best_epoch"], 2)
    assert float(found[5]) == pytest.approx(record["best"]["val_accuracy"], abs=5e-4)


def test_train_errors_are_one_line_and_exit_code_2(
    cli_run: CliRun,
    colours: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new = tmp_path / "new"
    missing = tmp_path / "no-such-data"
    line = one_error_line(*feint(monkeypatch, capsys, "train", missing, "-o", new, "--quiet"))
    assert f"{missing}: no such file or folder" in line
    assert not new.exists()  # no half-made run folder

    line = one_error_line(
        *feint(monkeypatch, capsys, "train", colours, "-o", new, "--classes", "red,purple", "--quiet")
    )
    assert "--classes: purple not in the dataset (classes: blue, green, red)" in line
    assert not new.exists()

    line = one_error_line(*feint(monkeypatch, capsys, "train", colours, "-o", new, "--val", "1.5", "--quiet"))
    assert line.startswith("feint: error: --val: ")

    out, options, _, _ = cli_run
    config_before = (out / "config.json").read_text()
    changed = list(options)
    changed[options.index("--epochs") + 1] = "3"
    line = one_error_line(*feint(monkeypatch, capsys, "train", *changed, "--resume"))
    assert f"{out}: cannot resume with different settings (epochs: was 2, now 3)" in line
    line = one_error_line(*feint(monkeypatch, capsys, "train", *options))
    assert "run folder exists; pass --resume" in line
    assert (out / "config.json").read_text() == config_before


def test_split_keeps_one_split_of_the_inputs_that_have_splits_and_all_of_the_others(
    colours: Path, tmp_path: Path
) -> None:
    from feint.training.data import training_sets

    extra = make_images(tmp_path / "renders", per_class=2, seed=3)  # no split folders, like a render
    train, held = training_sets([colours, extra], split="train", val=0.0, val_split="val")
    assert len(train.paths) == 3 * 12 + 3 * 2
    assert sum(p.is_relative_to(extra) for p in train.paths) == 6
    assert held is not None and len(held.paths) == 3 * 4
    with pytest.raises(FeintError, match="--split train: none of the inputs has splits"):
        training_sets([extra], split="train", val=0.0)
