"""`train()` end to end on tiny images: run folder, loss falls, resume equals an uninterrupted run, --init."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from feint.cli import _register, app, main
from feint.training.run import TrainConfig, train

TIMING = ("seconds", "images_per_second")


def history(out: Path) -> list[dict]:
    lines = (out / "metrics.jsonl").read_text().splitlines()
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING} for line in lines]


def config(data: Path, out: Path, mode: str, epochs: int, **kw) -> TrainConfig:
    return TrainConfig(data=[str(data)], out=str(out), mode=mode, epochs=epochs, size=64, batch=8,
                       progress=False, **kw)


class Killed(Exception):
    """Stands for a kill -9 after a checkpoint was written."""


def kill_after(monkeypatch: pytest.MonkeyPatch, epoch: int) -> None:
    """Make the run die right after it has written the checkpoint of `epoch`."""
    from feint.training import plots

    original = plots.plot_curves

    def plot_then_die(hist, path):  # noqa: ANN001, ANN202 - the last thing an epoch's checkpoint does
        original(hist, path)
        if hist[-1]["epoch"] == epoch:
            raise Killed

    monkeypatch.setattr(plots, "plot_curves", plot_then_die)


def test_finetune_run_folder_and_loss_falls(tiny_manifest: Path, tmp_path: Path) -> None:
    out = tmp_path / "ft"
    record = train(config(tiny_manifest, out, "finetune", 4, lr=3e-4, val=0.0))
    for name in ("config.json", "run.json", "data.csv", "metrics.jsonl", "curves.png", "best.pt", "last.pt"):
        assert (out / name).is_file(), name
    rows = history(out)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert rows[-1]["train_loss"] < rows[0]["train_loss"] - 0.1
    assert rows[-1]["train_accuracy"] > rows[0]["train_accuracy"]
    assert record["status"] == "done" and record["best_epoch"] == 4  # no validation: the last epoch
    assert record["versions"]["torch"] and record["seed"] == 0


@pytest.mark.parametrize("mode", ["frozen", "finetune"])
def test_resume_after_a_kill_gives_the_same_metrics(tiny_manifest: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    epochs = 4 if mode == "frozen" else 3
    whole = tmp_path / "whole"
    train(config(tiny_manifest, whole, mode, epochs, val=0.25))
    broken = tmp_path / "broken"
    with monkeypatch.context() as m:
        kill_after(m, 2)
        with pytest.raises(Killed):
            train(config(tiny_manifest, broken, mode, epochs, val=0.25))
    assert len(history(broken)) == 2
    with pytest.raises(Exception, match="--resume"):
        train(config(tiny_manifest, broken, mode, epochs, val=0.25))  # not without --resume
    train(config(tiny_manifest, broken, mode, epochs, val=0.25), resume=True)
    assert history(broken) == history(whole)


def test_init_starts_from_another_runs_weights(tiny_manifest: Path, tmp_path: Path) -> None:
    first = tmp_path / "first"
    train(config(tiny_manifest, first, "frozen", 30, lr=1e-2, val=0.0))
    fresh = train(config(tiny_manifest, tmp_path / "fresh", "frozen", 1, lr=1e-9, val=0.0))
    warm = train(config(tiny_manifest, tmp_path / "warm", "frozen", 1, lr=1e-9, val=0.0, init=str(first)))
    # With a learning rate of ~0 the one epoch shows the starting weights: trained ones fit far better.
    assert warm["best"]["train_loss"] < fresh["best"]["train_loss"] - 0.2


def test_train_cli_prints_a_summary(tiny_manifest: Path, tmp_path: Path) -> None:
    _register()
    result = CliRunner().invoke(app, [
        "train", str(tiny_manifest), "-o", str(tmp_path / "run"), "--mode", "frozen", "--epochs", "2",
        "--size", "64", "--batch", "8", "-q"])
    assert result.exit_code == 0, result.output
    assert "training images" in result.output and "best epoch" in result.output


@pytest.mark.parametrize("extra, expected", [
    (["--classes", "red,purple"], "purple"),
    (["--epochs", "0"], "--epochs"),
    (["--mode", "sideways"], "--mode"),
])
def test_train_cli_bad_input_is_one_line(tiny_manifest: Path, tmp_path: Path, capsys, monkeypatch,
                                         extra: list[str], expected: str) -> None:
    args = ["feint", "train", str(tiny_manifest), "-o", str(tmp_path / "run"), "--size", "64", "-q", *extra]
    monkeypatch.setattr("sys.argv", args)
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2
    assert err.startswith("feint: error:") and expected in err and "\n" not in err


def test_missing_data_and_changed_resume_are_clear(tiny_manifest: Path, tmp_path: Path) -> None:
    from feint.errors import FeintError

    with pytest.raises(FeintError, match="nowhere"):
        train(config(tmp_path / "nowhere", tmp_path / "a", "frozen", 1))
    out = tmp_path / "b"
    train(config(tiny_manifest, out, "frozen", 1, val=0.0))
    with pytest.raises(FeintError, match="different settings"):
        train(config(tiny_manifest, out, "frozen", 2, val=0.0), resume=True)
