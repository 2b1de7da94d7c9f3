"""Detection end to end on tiny shape images: COCO -> YOLO -> 80/10/10 split -> train -> predict -> eval;
the loss falls; resume equals an uninterrupted run; mAP equals a hand-computed value; one-line errors."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from detection_helpers import CLASSES, feint, make_coco, one_error_line
from PIL import Image

from feint.detection import DetectConfig, coco_scores, evaluate_detector, train_detector
from feint.detection import train as train_mod
from feint.detection.folder import load_checkpoint
from feint.detection.plots import draw_detections
from feint.detection.runs import DetectorRun, detect_images
from feint.detection.types import Detections
from feint.errors import FeintError

RUN_FILES = ("config.json", "run.json", "data.csv", "metrics.jsonl", "curves.png", "best.pt", "last.pt")
TIMING = ("seconds", "images_per_second")


def history(out: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in h.items() if k not in TIMING} for h in rows]


# --- the pipeline: convert, split, train, predict, eval ---------------------------------------------


@pytest.fixture(scope="module")
def pipeline(shapes: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """COCO -> `feint data convert --to yolo` -> `feint data split` 80/10/10 -> `feint detect train`."""
    root = tmp_path_factory.mktemp("pipeline")
    paths = {"yolo": root / "yolo", "split": root / "split", "run": root / "run"}
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # as the one_thread fixture, which a module fixture comes before
    try:
        assert feint("data", "convert", shapes, "--to", "yolo", "-o", paths["yolo"])[0] == 0
        assert (
            feint(
                "data",
                "split",
                paths["yolo"] / "data.yaml",
                "-o",
                paths["split"],
                "--ratios",
                "0.8,0.1,0.1",
                "--seed",
                "0",
            )[0]
            == 0
        )
        code, out, err = feint(
            "detect",
            "train",
            paths["split"],
            "-o",
            paths["run"],
            "--size",
            "96",
            "--batch",
            "4",
            "--epochs",
            "1",
            "--workers",
            "0",
            "--tracker",
            "mlflow",
            "-q",
        )
    finally:
        torch.set_num_threads(before)
    assert code == 0, err
    paths["stdout"] = out  # type: ignore[assignment]
    return paths


def test_conversion_and_split_feed_the_detector(pipeline: dict[str, Path]) -> None:
    split, run = pipeline["split"], pipeline["run"]
    assert (split / "data.yaml").is_file()  # the split of the YOLO data is YOLO again
    counts = {name: len((split / f"{name}.txt").read_text().split()) for name in ("train", "val", "test")}
    assert counts == {"train": 16, "val": 2, "test": 2}
    for name in RUN_FILES:
        assert (run / name).is_file(), name
    record = json.loads((run / "run.json").read_text())
    assert record["status"] == "done" and record["classes"] == list(CLASSES)
    assert record["data"]["train"] == 16 and record["data"]["val"] == 2  # train split; val split validates
    assert record["backbone"]["name"] == "mobilenet_v2"
    table = (run / "data.csv").read_text().splitlines()
    assert sum(line.endswith(",train") for line in table) == 16
    assert sum(line.endswith(",val") for line in table) == 2
    rows = history(run)
    assert [h["epoch"] for h in rows] == [1]
    assert all(0.0 <= h["val_map"] <= h["val_map50"] <= 1.0 and h["val_loss"] > 0 for h in rows)
    assert "16 training images (" in str(pipeline["stdout"])
    ckpt = load_checkpoint(run / "best.pt")
    assert ckpt["classes"] == list(CLASSES) and ckpt["size"] == 96 and ckpt["model"] == "fasterrcnn"
    # The run is in the MLflow store in its folder, with its per-epoch metrics and final numbers.
    with sqlite3.connect(run / "mlflow.db") as db:
        assert db.execute("select name, status from runs").fetchall() == [("run", "FINISHED")]
        steps = db.execute("select step from metrics where key = 'val_map' order by step").fetchall()
        best = db.execute("select value from metrics where key = 'best_val_map'").fetchall()
    assert steps == [(1,)] and best == [(record["best"]["val_map"],)]
    assert f"MLflow: 1 run in {run / 'mlflow.db'}" in str(pipeline["stdout"])


def test_predict_writes_drawn_images_grid_and_coco_results(
    pipeline: dict[str, Path], shapes: Path, tmp_path: Path
) -> None:
    out = tmp_path / "pred"
    inputs = sorted((shapes / "images").iterdir())[:3]
    code, stdout, err = feint("detect", "predict", pipeline["run"], *inputs, "-o", out, "--conf", "0.05")
    assert code == 0, err
    assert f"{out}: 3 images" in stdout
    drawn = sorted((out / "images").iterdir())
    assert [p.stem for p in drawn] == [p.stem for p in inputs]
    with Image.open(out / "grid.png") as grid:
        assert grid.size == (3 * 320, 320)
    results = json.loads((out / "detections.json").read_text())
    images = json.loads((out / "images.json").read_text())
    assert [i["file_name"] for i in images["images"]] == [str(p) for p in inputs]
    assert [c["name"] for c in images["categories"]] == list(CLASSES)
    for r in results:
        assert set(r) == {"image_id", "category_id", "bbox", "score"}
        assert r["image_id"] in (1, 2, 3) and r["category_id"] in (1, 2) and r["score"] >= 0.05
        x, y, w, h = r["bbox"]
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= 96.01 and y + h <= 72.01


def test_draw_detections_outlines_each_box_in_its_class_colour() -> None:
    from feint.detection.plots import class_colour

    image = Image.new("RGB", (200, 150), (0, 0, 0))
    drawn = np.asarray(draw_detections(image, np.array([[40.0, 60.0, 120.0, 140.0]]), [1], [0.87], CLASSES))
    colour = class_colour(1)
    assert tuple(drawn[100, 40]) == colour and tuple(drawn[100, 120]) == colour  # left and right edges
    assert tuple(drawn[140, 80]) == colour  # bottom edge (PIL draws x1 and y1 inclusive)
    assert tuple(drawn[100, 80]) == (0, 0, 0)  # inside stays untouched
    assert (drawn[40:60, 40:100] == colour).all(axis=2).any()  # the label's background above the box
    assert tuple(np.asarray(image)[100, 40]) == (0, 0, 0)  # the input image is not drawn on


def test_eval_writes_map_per_class_and_pr_curves(pipeline: dict[str, Path]) -> None:
    code, stdout, err = feint("detect", "eval", pipeline["run"], pipeline["split"], "-q")
    assert code == 0, err
    report = pipeline["run"] / "detect-eval-split-test"  # the test split by default
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["split"] == "test" and metrics["images"] == 2
    assert [r["class"] for r in metrics["per_class"]] == list(CLASSES)
    assert 0.0 <= metrics["map"] <= metrics["map50"] <= 1.0
    assert f"mAP@0.5 {metrics['map50']:.3f}" in stdout
    assert (report / "pr_curves.png").is_file()
    truth = json.loads((report / "ground_truth.json").read_text())
    assert len(truth["annotations"]) == metrics["gt_boxes"]


# --- learning and resuming ---------------------------------------------------------------------------


def four_config(data: Path, out: Path, **kw: Any) -> DetectConfig:
    base: dict[str, Any] = dict(
        data=str(data), out=str(out), size=96, batch=2, epochs=4, seed=0, warmup_epochs=0.5, progress=False
    )
    return DetectConfig(**{**base, **kw})


class Killed(Exception):
    """Stands in for the process being killed right after a checkpoint was written."""


def test_loss_falls_and_a_resumed_run_ends_like_an_uninterrupted_one(
    four: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = four_config(four, tmp_path / "whole")
    record = train_detector(whole)
    rows = history(Path(whole.out))
    assert len(rows) == 4 and record["best_epoch"] == 4  # without validation the last epoch is kept
    assert rows[-1]["train_loss"] < 0.6 * rows[0]["train_loss"], [h["train_loss"] for h in rows]

    split = four_config(four, tmp_path / "split")
    real = train_mod.save_checkpoint

    def save(obj: dict[str, Any], path: Path) -> None:
        real(obj, path)
        if path.name == "last.pt" and obj["epoch"] == 2:
            raise Killed

    with monkeypatch.context() as m:
        m.setattr(train_mod, "save_checkpoint", save)
        with pytest.raises(Killed):
            train_detector(split)
    assert len(history(Path(split.out))) == 2
    with pytest.raises(FeintError, match="run folder exists; pass --resume"):
        train_detector(split)
    resumed = train_detector(split, resume=True)
    assert resumed["resumed_at_epoch"] == 2
    assert history(Path(split.out)) == rows
    a, b = load_checkpoint(Path(whole.out) / "last.pt"), load_checkpoint(Path(split.out) / "last.pt")
    assert all(torch.equal(a["state"][k], b["state"][k]) for k in a["state"])


# --- metrics -----------------------------------------------------------------------------------------


def box(x: float, y: float, w: float, h: float, score: float | None = None) -> dict[str, Any]:
    """A ground-truth annotation (no score) or a detection of class 1 on image 1."""
    entry: dict[str, Any] = {"image_id": 1, "category_id": 1, "bbox": [x, y, w, h]}
    if score is None:
        return {**entry, "area": w * h, "iscrowd": 0}
    return {**entry, "score": score}


GROUND_TRUTH = {
    "images": [{"id": 1, "file_name": "a.png", "width": 100, "height": 100}],
    "categories": [{"id": 1, "name": "square"}, {"id": 2, "name": "disc"}],
    "annotations": [box(0, 0, 20, 20), box(50, 50, 20, 20)],
}


def test_map_equals_the_hand_computed_value() -> None:
    """Two ground-truth squares; detections by score: a perfect match (IoU 1), a miss (IoU 0), and a box
    covering 62.5 % of the second square (IoU 0.625).

    At IoU 0.5, 0.55, 0.6 the third detection is a match: precision/recall after each detection is
    1/0.5, 0.5/0.5, 2/3/1; COCO interpolates precision as the best at any higher recall: 1 for recall
    <= 0.5 (51 of the 101 recall points) and 2/3 above (50 points), so AP = (51 + 50 * 2/3) / 101 = 253/303.
    At IoU 0.65 ... 0.95 (7 thresholds) recall stops at 0.5: AP = 51/101 = 153/303.
    mAP@0.5:0.95 = (3 * 253 + 7 * 153) / 3030 = 1830/3030.
    """
    detections = [box(0, 0, 20, 20, 0.9), box(80, 0, 10, 10, 0.8), box(50, 50, 20, 12.5, 0.7)]
    scores = coco_scores(GROUND_TRUTH, detections)
    assert scores["map50"] == pytest.approx(253 / 303, abs=1e-12)
    assert scores["map"] == pytest.approx(1830 / 3030, abs=1e-12)
    square, disc = scores["per_class"]
    assert square == {
        "class": "square",
        "ap": pytest.approx(1830 / 3030),
        "ap50": pytest.approx(253 / 303),
        "gt_boxes": 2,
        "detections": 3,
    }
    assert disc["ap"] is None and disc["gt_boxes"] == 0  # no ground truth: left out of the mean
    assert scores["pr_curves"]["precision"]["square"][:51] == pytest.approx([1.0] * 51)
    assert scores["pr_curves"]["precision"]["square"][51:] == pytest.approx([2 / 3] * 50)

    # The same boxes called the wrong class score 0 per class, and as much as before class-agnostic.
    wrong = [{**d, "category_id": 2} for d in detections]
    assert coco_scores(GROUND_TRUTH, wrong)["map50"] == 0.0
    agnostic = coco_scores(GROUND_TRUTH, wrong, class_agnostic=True)
    assert agnostic["map50"] == pytest.approx(253 / 303) and agnostic["per_class"][0]["class"] == "object"
    assert coco_scores(GROUND_TRUTH, [])["map"] == 0.0  # no detections at all


def test_detections_come_back_in_the_original_image_pixels(tmp_path: Path) -> None:
    """The loader resizes (longer side = size); detections are mapped back to each image's own pixels."""

    class WholeImage(torch.nn.Module):
        def forward(self, images: list[torch.Tensor]) -> list[dict[str, torch.Tensor]]:
            return [
                {
                    "boxes": torch.tensor([[0.0, 0.0, x.shape[2], x.shape[1]]]),
                    "scores": torch.tensor([0.5]),
                    "labels": torch.tensor([2]),
                }
                for x in images
            ]

    paths = []
    for k, size in enumerate([(200, 100), (30, 60)]):
        paths.append(tmp_path / f"{k}.png")
        Image.new("RGB", size).save(paths[-1])
    found = detect_images(WholeImage(), paths, size=64, batch=2)
    assert [d.boxes.tolist() for d in found] == [[[0.0, 0.0, 200.0, 100.0]], [[0.0, 0.0, 30.0, 60.0]]]
    assert [d.labels.tolist() for d in found] == [[1], [1]]  # torchvision's label 2 = second class


@pytest.fixture
def perfect(shapes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DetectorRun:
    """A run that 'detects' exactly the ground-truth boxes of the shapes, with score 1."""
    from feint.datasets import load_dataset
    from feint.detection import runs as runs_mod

    truth = {r.image: r for r in load_dataset(shapes).records}

    def detect(paths: list[Path], *args: Any, **kw: Any) -> list[Detections]:
        return [
            Detections(
                truth[p].boxes,
                np.ones(len(truth[p].boxes)),
                np.array([CLASSES.index(c) for c in truth[p].box_labels]),
            )
            for p in paths
        ]

    run = DetectorRun(tmp_path / "perfect", list(CLASSES), 96, None)
    monkeypatch.setattr(run, "detect", detect)
    monkeypatch.setattr(runs_mod, "load_detector", lambda path: run)
    return run


def test_eval_of_a_perfect_detector_is_1(perfect: DetectorRun, shapes: Path, tmp_path: Path) -> None:
    """evaluate_detector lines up images, classes and boxes: ground truth as detections gives mAP 1."""
    metrics = evaluate_detector(perfect.path, shapes, out=tmp_path / "report")
    assert metrics["map"] == 1.0 and metrics["map50"] == 1.0 and metrics["images"] == 20


def test_predict_draws_the_boxes_and_writes_them_as_coco_results(
    perfect: DetectorRun, shapes: Path, tmp_path: Path
) -> None:
    from feint.detection.plots import class_colour

    image = shapes / "images" / "shape-001.png"
    code, stdout, err = feint("detect", "predict", perfect.path, image, "-o", tmp_path / "p")
    assert code == 0, err
    truth = json.loads((shapes / "annotations.json").read_text())
    expected = [
        {"image_id": 1, "category_id": a["category_id"], "bbox": [float(v) for v in a["bbox"]], "score": 1.0}
        for a in truth["annotations"]
        if a["image_id"] == 2
    ]
    assert json.loads((tmp_path / "p" / "detections.json").read_text()) == expected
    with Image.open(tmp_path / "p" / "images" / "shape-001.jpg") as img:
        drawn = np.asarray(img.convert("RGB")).astype(int)
    scale = drawn.shape[1] / 96  # small images are drawn enlarged (longer side 512)
    assert drawn.shape[1] == 512
    for r in expected:  # the middle of each box's left edge has the class's colour (JPEG: roughly)
        x, y, w, h = (round(v * scale) for v in r["bbox"])
        assert np.abs(drawn[y + h // 2, x] - class_colour(r["category_id"] - 1)).max() < 40


def test_predict_never_writes_into_or_over_its_input_folder(perfect: DetectorRun, shapes: Path) -> None:
    """`-o` the input folder, a folder inside it or a folder holding it: one line, exit 2, nothing written."""
    photos = shapes
    before = {p: p.stat().st_mtime_ns for p in photos.rglob("*")}
    for out in (photos / "images", photos / "images" / "drawn", photos, photos.parent):
        line = one_error_line(*feint("detect", "predict", perfect.path, photos / "images", "-o", out, "-q"))
        assert "input" in line or "inside" in line, line
        assert {p: p.stat().st_mtime_ns for p in photos.rglob("*")} == before
    assert not (photos / "images" / "drawn").exists()
    # the default output lies in the run folder, away from the photos
    assert feint("detect", "predict", perfect.path, photos / "images", "-q")[0] == 0
    assert (perfect.path / "detect-images" / "grid.png").is_file()
    assert {p: p.stat().st_mtime_ns for p in photos.rglob("*")} == before


# --- errors ------------------------------------------------------------------------------------------


def test_errors_are_one_line_and_exit_code_2(
    pipeline: dict[str, Path], shapes: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = tmp_path / "new"
    missing = tmp_path / "no-such-data"
    line = one_error_line(*feint("detect", "train", missing, "-o", new, "-q"))
    assert f"{missing}: no such file or folder" in line and not new.exists()

    line = one_error_line(*feint("detect", "predict", tmp_path / "no-run", shapes / "images"))
    assert "no-run: no such run folder" in line

    # Boxes of a class the model does not know.
    other = make_coco(tmp_path / "other", n=3)
    text = (other / "annotations.json").read_text().replace('"disc"', '"triangle"')
    (other / "annotations.json").write_text(text)
    line = one_error_line(*feint("detect", "eval", pipeline["run"], other, "-q"))
    assert "class 'triangle' is unknown to the model" in line and "--class-agnostic" in line
    assert feint("detect", "eval", pipeline["run"], other, "--class-agnostic", "-q")[0] == 0

    # No boxes at all (an image classification dataset).
    folder = tmp_path / "folder" / "square"
    folder.mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(folder / "a.png")
    line = one_error_line(*feint("detect", "train", folder.parent, "-o", new, "-q"))
    assert "no boxes at all" in line

    # A corrupt image.
    broken = make_coco(tmp_path / "broken", n=2)
    (broken / "images" / "shape-001.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    line = one_error_line(
        *feint("detect", "train", broken, "-o", tmp_path / "b", "-q", "--workers", "2")
    )  # raised in a worker process, still one line
    assert "shape-001.png" in line and ("corrupt" in line or "not a readable image" in line)

    # YOLO without Ultralytics installed: how to get it, and its licence.
    monkeypatch.setitem(sys.modules, "ultralytics", None)
    yolo = ("detect", "train", shapes, "-o", tmp_path / "y", "-q", "--model")
    line = one_error_line(*feint(*yolo, "yolo11n.yaml"))
    assert "pip install 'feint[yolo]'" in line and "AGPL-3.0" in line
    line = one_error_line(*feint(*yolo, "yolo11n.pt"))
    assert "yolo11n.pt: no such file" in line

    line = one_error_line(*feint("detect", "train", shapes, "-o", new, "--size", "8", "-q"))
    assert line.startswith("feint: error: --size: ")
