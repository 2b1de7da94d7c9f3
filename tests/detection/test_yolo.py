"""The Ultralytics backend, for real: `feint detect train --model yolo11n.yaml` trains a few steps at a tiny
size, `detect predict` and `detect eval` read its run, all with the network unreachable, and nothing tries
to reach it (fonts, weights, AMP checks, hub, analytics); nothing lands in the user's settings folder or
the working directory."""

from __future__ import annotations

import json
import socket
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from detection_helpers import feint, make_coco

from feint.detection import coco_scores


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[tuple[Any, ...]]:
    """Every way out of this process to the network refuses, and is recorded; a private feint cache and
    home folder (Ultralytics would otherwise write its settings into ~/.config)."""
    attempts: list[tuple[Any, ...]] = []

    def refuse(*args: Any, **kw: Any) -> Any:
        attempts.append(args[:2])
        raise OSError("network is unreachable (test)")

    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", lambda self, *a: refuse(*a))
    monkeypatch.setattr(socket.socket, "connect_ex", lambda self, *a: refuse(*a))
    monkeypatch.setenv("FEINT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    return attempts


def test_yolo_trains_predicts_and_evaluates_offline(
    shapes: Path, tmp_path: Path, offline: list[tuple[Any, ...]]
) -> None:
    out = tmp_path / "yolo-run"
    val = make_coco(tmp_path / "val", n=4, seed=5)  # other images: validating on the training ones is refused
    code, stdout, err = feint(
        "detect", "train", shapes, "-o", out, "--model", "yolo11n.yaml", "--size", "64",
        "--epochs", "2", "--batch", "4", "--val", val, "--tracker", "mlflow", "-q",
    )  # fmt: skip
    assert code == 0, err
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "yolo11n.yaml" and config["size"] == 64
    run = json.loads((out / "run.json").read_text())
    assert run["backend"] == "ultralytics" and run["status"] == "done" and run["epochs_run"] == 2
    assert (out / "ultralytics" / "weights" / "best.pt").is_file() and (out / "curves.png").is_file()
    data = (out / "data" / "data.yaml").read_text()  # what it trained on: the images feint chose
    assert "square" in data and len((out / "data" / "train.txt").read_text().split()) == 20
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == [1, 2] and all(r["train_loss"] > 0 for r in rows)
    assert "best epoch" in stdout
    with sqlite3.connect(out / "mlflow.db") as db:  # feint's tracker got Ultralytics' epochs
        steps = db.execute("select step from metrics where key = 'train_loss' order by step").fetchall()
    assert steps == [(1,), (2,)]

    code, stdout, err = feint(
        "detect", "predict", out, shapes / "images", "-o", tmp_path / "p", "--conf", "0", "-q"
    )
    assert code == 0, err
    found = json.loads((tmp_path / "p" / "detections.json").read_text())
    assert (tmp_path / "p" / "grid.png").is_file() and all(0 <= d["score"] <= 1 for d in found)

    # eval: the same pycocotools code as feint's own detector, on what the run detects
    code, stdout, err = feint("detect", "eval", out, val, "-o", tmp_path / "e", "-q")
    assert code == 0, err
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())
    truth = json.loads((tmp_path / "e" / "ground_truth.json").read_text())
    detections = json.loads((tmp_path / "e" / "detections.json").read_text())
    again = coco_scores(truth, detections)
    assert metrics["map"] == pytest.approx(again["map"]) and metrics["map50"] == pytest.approx(again["map50"])
    assert [c["class"] for c in metrics["per_class"]] == ["square", "disc"]

    assert offline == []  # nothing tried the network
    from PIL import Image, UnidentifiedImageError

    (tmp_path / "garbage.jpg").write_bytes(b"not an image")
    with pytest.raises(UnidentifiedImageError):  # PIL's own Image.open, not Ultralytics' patched one
        Image.open(tmp_path / "garbage.jpg")
    assert not (tmp_path / "home" / ".config" / "Ultralytics").exists()
    from ultralytics.utils import USER_CONFIG_DIR

    assert USER_CONFIG_DIR.parent.name == "ultralytics"  # feint's cache folder, whoever imported it first
    assert list((tmp_path / "cwd").iterdir()) == []  # no runs/, weights/ or mlruns/ where it was started
