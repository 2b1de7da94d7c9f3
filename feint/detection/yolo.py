"""Ultralytics YOLO as a backend: `feint detect train DATA --model yolo11n.yaml`.

Ultralytics is licensed AGPL-3.0 (feint is Apache-2.0), so it is the extra `pip install 'feint[yolo]'`;
`make install` (feint's development install) includes it, and code that ships with it falls under the AGPL.

The run trains from the model yaml (random weights: nothing is downloaded offline) unless the user gives
a local .pt file. Ultralytics is imported offline (`YOLO_OFFLINE`: no font, weight, AMP-check or hub
downloads, no analytics), with its settings in feint's cache folder rather than the user's and its own
integrations (MLflow, W&B, TensorBoard, ...) off: feint's `--tracker` logs the run. Any dataset feint
reads is written as the YOLO data.yaml that `feint data convert --to yolo` writes (images linked), with
the training and validation images feint chose, into RUN/data/; Ultralytics trains into RUN/ultralytics/
(weights/best.pt, last.pt, results.csv). feint then writes the same run files as its own detector
(config.json, run.json, metrics.jsonl, curves.png), so `feint detect predict` and `feint detect eval`
treat both alike.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from feint.detection.data import detection_sets_of, select_data
from feint.detection.folder import data_rows, prepare_folder
from feint.detection.plots import plot_curves
from feint.detection.types import DetectConfig, Detections
from feint.errors import FeintError
from feint.io import write_json_atomic, write_text_atomic
from feint.run_folder import check_same_data, data_fingerprint, versions
from feint.tracking import TrainingLog
from feint.training.data import tell

INSTALL = (
    "YOLO models need Ultralytics, an optional extra: pip install 'feint[yolo]'. Ultralytics is "
    "licensed AGPL-3.0 (feint is Apache-2.0): software you distribute with it falls under the AGPL. "
    "feint's own detector (--model fasterrcnn) needs nothing extra"
)
SUBDIR = "ultralytics"


def is_yolo_model(model: str) -> bool:
    """A YOLO model name or file (yolo11n.yaml, yolov8s.pt, my/model.yaml) rather than a feint model."""
    return model.lower().startswith("yolo") or model.lower().endswith((".pt", ".yaml", ".yml"))


# Ultralytics' settings that start its own loggers or online services when their package is installed.
FONTS = ("Arial.ttf", "Arial.Unicode.ttf")
INTEGRATIONS = ("sync", "clearml", "comet", "dvc", "mlflow", "neptune", "raytune", "tensorboard", "wandb")


def _give_fonts(folder: Path) -> None:
    """Ultralytics checks for Arial fonts in its settings folder before every training run and asks the
    network for them when they are missing (its plots use them); matplotlib's DejaVu Sans, under those
    names, stops that."""
    import shutil

    import matplotlib

    font = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    for name in FONTS:
        if not (folder / name).is_file():
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{name}.tmp-{os.getpid()}"
            shutil.copyfile(font, tmp)
            tmp.replace(folder / name)


def _restore_pil_open(patches: Any) -> None:
    """Importing Ultralytics replaces PIL's `Image.open` for the whole process with one that, on a file PIL
    cannot identify, tries to install and import pi-heif: a corrupt image then raises ModuleNotFoundError
    instead of PIL's own error, in feint's code too. feint puts PIL's own function back (Ultralytics keeps
    it as `_image_open`); HEIF photos are not read either way."""
    from PIL import Image

    original = getattr(patches, "_image_open", None)
    if original is not None and Image.open is not original:
        Image.open = original


def _yolo_class(quiet: bool = False) -> Any:
    """Ultralytics' YOLO class, imported offline with its settings file in feint's cache folder."""
    from feint.training.cache import cache_root

    home = cache_root() / "ultralytics"
    if "ultralytics" not in sys.modules:
        os.environ["YOLO_OFFLINE"] = "1"  # read once, at import
        os.environ["YOLO_CONFIG_DIR"] = str(home)
    try:
        from ultralytics import YOLO
        from ultralytics.utils import SETTINGS, USER_CONFIG_DIR, patches
    except ImportError:
        raise FeintError(INSTALL) from None
    _restore_pil_open(patches)
    _give_fonts(USER_CONFIG_DIR)
    # Its default folders are in the working directory; feint names every output itself.
    wanted: dict[str, bool | str] = {k: False for k in INTEGRATIONS if k in SETTINGS}
    wanted |= {f"{k}_dir": str(home / k) for k in ("datasets", "weights", "runs")}
    if any(SETTINGS.get(k) != v for k, v in wanted.items()):
        SETTINGS.update(wanted)
    logging.getLogger("ultralytics").setLevel(logging.WARNING if quiet else logging.INFO)
    return YOLO


def _check_model(model: str) -> None:
    """Offline, a .pt must be a file here: Ultralytics would otherwise try to download it by name (and a
    bare name such as yolo11n means yolo11n.pt to it)."""
    if not model.lower().endswith((".pt", ".yaml", ".yml")):
        raise FeintError(
            f"--model {model}: give a YOLO model yaml (e.g. yolo11n.yaml, random weights) or a local .pt file"
        )
    if model.lower().endswith(".pt") and not Path(model).is_file():
        raise FeintError(
            f"--model {model}: no such file; offline, pretrained YOLO weights must be a local "
            ".pt file (or train from a model yaml, e.g. yolo11n.yaml, from random weights)"
        )


def _write_data(train: Any, held: Any, folder: Path) -> Path:
    """The chosen images as YOLO (links), splits train and val; val repeats train when there is none."""
    import shutil

    from feint.datasets.formats.yolo import save_yolo

    records = [r.with_(split="train") for r in train.records]
    records += [r.with_(split="val") for r in (held.records if held is not None else train.records)]
    if folder.exists():
        shutil.rmtree(folder)
    save_yolo(train.with_records(records), folder)
    return folder / "data.yaml"


def _history(results_csv: Path) -> list[dict[str, Any]]:
    """Ultralytics' results.csv as feint's metrics.jsonl rows (losses summed as feint's are)."""
    import pandas as pd

    table = pd.read_csv(results_csv)
    table.columns = [c.strip() for c in table.columns]
    rows = []
    for _, r in table.iterrows():
        train = [c for c in table.columns if c.startswith("train/")]
        val = [c for c in table.columns if c.startswith("val/")]
        row: dict[str, Any] = {
            "epoch": int(r["epoch"]),
            "lr": float(r.get("lr/pg0", float("nan"))),
            "train_loss": float(sum(r[c] for c in train)),
            **{f"train_{c[6:]}": float(r[c]) for c in train},
        }
        if val:
            row["val_loss"] = float(sum(r[c] for c in val))
        if "metrics/mAP50-95(B)" in table.columns:
            row["val_map"] = float(r["metrics/mAP50-95(B)"])
            row["val_map50"] = float(r["metrics/mAP50(B)"])
        rows.append(row)
    # Ultralytics keeps best.pt by fitness 0.1 mAP@0.5 + 0.9 mAP@0.5:0.95
    fitness = [0.1 * h.get("val_map50", 0.0) + 0.9 * h.get("val_map", 0.0) for h in rows]
    best = rows[int(np.argmax(fitness))]["epoch"] if rows else 0
    for h in rows:
        h["best_epoch"] = best
    return rows


@contextmanager
def _amp_without_download() -> Iterator[None]:
    """On a CUDA device Ultralytics checks mixed precision by downloading yolo26n.pt and comparing its
    outputs with and without AMP; offline that is a network attempt and then a guess that AMP works. feint
    makes the guess without the attempt: AMP on, as Ultralytics does when the check cannot run."""
    from ultralytics.engine import trainer

    real = trainer.check_amp
    trainer.check_amp = lambda model: True
    try:
        yield
    finally:
        trainer.check_amp = real


def train_yolo(cfg: DetectConfig, resume: bool = False, log: TrainingLog | None = None) -> dict[str, Any]:
    """Train with Ultralytics into cfg.out; returns the run record (run.json). Ultralytics runs its own
    epochs: a tracker (`log`) gets them all when the run is done."""
    _check_model(cfg.model)
    YOLO = _yolo_class(quiet=not cfg.progress)
    notes: list[tuple[str, str]] = []
    train, held = select_data(cfg, notes)
    train_set, val_set = detection_sets_of(train, held)  # the same checks as feint's detector
    rows, keyed = data_rows(train_set, val_set)
    fingerprint = data_fingerprint(keyed, train_set.classes)
    prepare_folder(cfg, resume)
    out = Path(cfg.out)
    check_same_data(out, fingerprint, train_set.classes, rows, "boxes")
    if resume and (out / "run.json").is_file():
        done = json.loads((out / "run.json").read_text())
        if done.get("status") == "done":
            return done
    tell(notes)
    last = out / SUBDIR / "weights" / "last.pt"
    started = time.perf_counter()
    record: dict[str, Any] = {
        "status": "running",
        "model": cfg.model,
        "backend": "ultralytics",
        "seed": cfg.seed,
        "classes": train_set.classes,
        "versions": {**versions(), "ultralytics": _version()},
        "data": {
            "train": len(train_set),
            "train_boxes": train_set.n_boxes,
            "val": len(val_set) if val_set is not None else 0,
            "fingerprint": fingerprint,
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    with _amp_without_download():
        if resume and last.is_file():
            YOLO(str(last)).train(resume=True)
        else:
            data_yaml = _write_data(train, held, out / "data")
            write_json_atomic(out / "run.json", record)
            YOLO(cfg.model).train(
                data=str(data_yaml),
                epochs=cfg.epochs,
                imgsz=cfg.size,
                batch=cfg.batch,
                workers=cfg.workers,
                seed=cfg.seed,
                deterministic=True,
                device=cfg.device,
                project=str(out.resolve()),
                name=SUBDIR,
                exist_ok=True,
                pretrained=cfg.model.lower().endswith(".pt"),
                val=val_set is not None,
                optimizer="SGD" if cfg.optimizer == "sgd" else "AdamW",
                lr0=cfg.lr,
                weight_decay=cfg.weight_decay,
                warmup_epochs=cfg.warmup_epochs,
                plots=False,
                verbose=cfg.progress,
            )
    history = _history(out / SUBDIR / "results.csv")
    write_text_atomic(out / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in history))
    plot_curves(history, out / "curves.png")
    best = next((h for h in history if h["epoch"] == history[-1]["best_epoch"]), {}) if history else {}
    record.update(
        {
            "status": "done",
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds_this_session": round(time.perf_counter() - started, 1),
            "epochs_run": len(history),
            "best_epoch": best.get("epoch"),
            "best": best,
        }
    )
    write_json_atomic(out / "run.json", record)
    if log is not None:
        log.finish(history, record, out)
    return record


def _version() -> str:
    import ultralytics

    return str(ultralytics.__version__)


def load_yolo_model(path: Path, which: str = "best") -> tuple[Any, list[str]]:
    """The run's best (or last) Ultralytics weights, loaded, and the class names in their index order."""
    weights = path / SUBDIR / "weights" / f"{which}.pt"
    if not weights.is_file():
        raise FeintError(
            f"{path}: no {SUBDIR}/weights/{which}.pt yet: the run has not finished an epoch "
            "(continue it with `feint detect train ... --resume`)"
        )
    model = _yolo_class()(str(weights))
    return model, [model.names[k] for k in sorted(model.names)]


def yolo_detect(
    model: Any, paths: Sequence[Path], size: int, conf: float, device: str, batch: int = 16
) -> list[Detections]:
    """Ultralytics predictions as `Detections` (boxes in the image's own pixels, class indices from 0)."""
    found = []
    for start in range(0, len(paths), batch):
        chunk = [str(p) for p in paths[start : start + batch]]
        # conf 0.001 at least: Ultralytics' own evaluation threshold (mAP needs the low-scoring boxes)
        for r in model.predict(chunk, imgsz=size, conf=max(conf, 0.001), device=device, verbose=False):
            found.append(
                Detections(
                    r.boxes.xyxy.cpu().numpy().astype(np.float64),
                    r.boxes.conf.cpu().numpy().astype(np.float64),
                    r.boxes.cls.cpu().numpy().astype(np.int64),
                )
            )
    return found
