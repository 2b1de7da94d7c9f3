"""A detection run, top to bottom: data, detector, optimiser, schedule, epochs, checkpoints, resume.

    from feint.detection import DetectConfig, train_detector
    train_detector(DetectConfig(data="runs/bottles-split", out="runs/det-a", epochs=12))

The run folder mirrors a classification run's: config.json (what was asked), run.json (versions, seed,
machine, data, status, best epoch), data.csv (every image used and its part), metrics.jsonl (one line per
epoch: losses, validation loss and mAP), curves.png, best.pt (highest validation mAP@0.5:0.95, then
mAP@0.5, then lowest validation loss; the last epoch without validation data), last.pt (with optimiser,
schedule and loop state). A killed run continues from last.pt with --resume and ends with the same
numbers as one that never stopped: each epoch reseeds its shuffling, flips and the detector's sampling
from (seed, epoch). With a tracker (`--tracker`), every epoch is logged as it ends, then the final
numbers and the run's files (feint/tracking.py).

Optimisation follows torchvision's detection reference: SGD with momentum 0.9 and weight decay 1e-4 at
lr 0.01 (or AdamW at 1e-4), linear warm-up then cosine to zero, every step. `--init RUN` starts from
another run's weights (init_from_run.py: renders first, then photos). A YOLO model is handed to
the Ultralytics backend (yolo.py), which shares the data selection and the run folder's files.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from tqdm import tqdm

from feint.detection.anchors import default_anchors, fit_anchors
from feint.detection.data import BoxedImages, DetectionSet, batches, detection_sets_of, loader, select_data
from feint.detection.evaluate import coco_results, coco_scores
from feint.detection.folder import data_rows, prepare_folder, write_data_table
from feint.detection.init_from_run import init_anchors, init_checkpoint, load_init
from feint.detection.models import build_detector
from feint.detection.plots import plot_curves
from feint.detection.runs import detect_images
from feint.detection.types import CHECKPOINT_FORMAT, DetectConfig
from feint.detection.yolo import is_yolo_model, train_yolo
from feint.errors import FeintError
from feint.io import write_json_atomic, write_text_atomic
from feint.run_folder import check_same_data, data_fingerprint, save_checkpoint, versions
from feint.tracking import Tracker, TrainingLog
from feint.training.backbones import get_backbone_spec
from feint.training.data import tell
from feint.training.device import resolve_device
from feint.training.loop import LoopConfig, LoopState, make_optimizer, warmup_cosine


def _optimizer(cfg: DetectConfig, params: list[Any]) -> torch.optim.Optimizer:
    """SGD with momentum 0.9 (torchvision's detection reference), or feint's AdamW."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.peak_lr, momentum=0.9, weight_decay=cfg.weight_decay)
    return make_optimizer(
        [{"params": params, "lr": cfg.peak_lr}], LoopConfig(lr=cfg.peak_lr, weight_decay=cfg.weight_decay)
    )


def _losses(model: Any, images: list[Any], targets: list[dict[str, Any]], device: Any) -> dict[str, Any]:
    """The detector's training losses for one batch (uint8 images scaled to [0, 1] here)."""
    x = [img.to(device).float().div_(255) for img in images]
    y = [{"boxes": t["boxes"].to(device), "labels": t["labels"].to(device)} for t in targets]
    return model(x, y)


def _validate(
    model: Any, val_loader: torch.utils.data.DataLoader, val_set: BoxedImages, cfg: DetectConfig
) -> dict[str, float]:
    """Validation loss (training-mode forward, no gradient: batch norms are frozen, nothing changes)
    and COCO mAP of the detections."""
    model.train()
    total, seen = 0.0, 0
    with torch.no_grad():
        for images, targets in batches(val_loader):
            total += float(sum(_losses(model, images, targets, cfg.device).values())) * len(images)
            seen += len(images)
    found = detect_images(model, val_set.paths, cfg.size, val_set.sizes, cfg.batch, cfg.workers, cfg.device)
    scores = coco_scores(val_set.coco(), coco_results(found))
    return {"val_loss": total / seen, "val_map": scores["map"], "val_map50": scores["map50"]}


def train_detector(cfg: DetectConfig, resume: bool = False, tracker: Tracker | None = None) -> dict[str, Any]:
    """Run (or continue) training into cfg.out; returns the run record (run.json). With a `tracker`, the
    run is also logged there (as failed if training fails after its first epoch)."""
    resolve_device(cfg.device)
    with TrainingLog(tracker, Path(cfg.out).resolve().name, asdict(cfg)) as log:
        if is_yolo_model(cfg.model):
            if cfg.init:
                raise FeintError(
                    "--init is for fasterrcnn runs: a YOLO run starts from the weights in --model FILE.pt"
                )
            return train_yolo(cfg, resume, log)
        return _train_torchvision(cfg, resume, log)


def _train_torchvision(cfg: DetectConfig, resume: bool, log: TrainingLog) -> dict[str, Any]:
    """feint's own detector (Faster R-CNN), top to bottom."""
    # --- data -----------------------------------------------------------------------------------------
    spec = get_backbone_spec(cfg.backbone)
    notes: list[tuple[str, str]] = []
    train_set, val_set = detection_sets_of(*select_data(cfg, notes))
    classes = train_set.classes
    rows, keyed = data_rows(train_set, val_set)
    fingerprint = data_fingerprint(keyed, classes)
    init = init_checkpoint(cfg) if cfg.init else None
    last = prepare_folder(cfg, resume)
    out = Path(cfg.out)
    check_same_data(out, fingerprint, classes, rows, "boxes")
    if last is not None and last.get("finished"):
        return json.loads((out / "run.json").read_text())
    tell(notes)
    write_data_table(out, rows)
    if init is not None:
        anchors = init_anchors(init, cfg.size)
    elif cfg.anchors == "fit":
        anchors = fit_anchors(train_set.boxes, train_set.sizes, cfg.size, cfg.finest_stride)
    else:
        anchors = default_anchors(cfg.size, cfg.finest_stride)
    record: dict[str, Any] = {
        "status": "running",
        "model": cfg.model,
        "seed": cfg.seed,
        "classes": classes,
        "backbone": spec.record(),
        "anchors": anchors.record(),
        "finest_stride": cfg.finest_stride,
        "init": {"run": str(Path(str(cfg.init)).resolve()), "epoch": init["epoch"]} if init else None,
        "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": cfg.device},
        "data": {
            "train": len(train_set),
            "train_boxes": train_set.n_boxes,
            "train_boxes_per_class": train_set.counts(),
            "val": len(val_set) if val_set is not None else 0,
            "val_boxes": val_set.n_boxes if val_set is not None else 0,
            "fingerprint": fingerprint,
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "resumed_at_epoch": last["loop"]["epoch"] if last else None,
    }
    write_json_atomic(out / "run.json", record)
    started = time.perf_counter()
    # --- model, optimiser, schedule -------------------------------------------------------------------
    device = torch.device(cfg.device)
    torch.manual_seed(cfg.seed)
    model = build_detector(
        spec, len(classes), cfg.size, cfg.model, anchors=anchors, finest_stride=cfg.finest_stride
    )
    if init is not None and last is None:  # a resumed run has these weights in last.pt
        record["init"]["loaded"] = load_init(model, init, classes)
    model.to(device)
    optimizer = _optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    steps = math.ceil(len(train_set) / cfg.batch)
    scheduler = warmup_cosine(optimizer, round(cfg.warmup_epochs * steps), cfg.epochs * steps)
    state = LoopState()
    if last is not None:  # --- resume ---
        model.load_state_dict(last["state"])
        optimizer.load_state_dict(last["optimizer"])
        scheduler.load_state_dict(last["scheduler"])
        state = LoopState.from_dict(last["loop"])
    train_images = DetectionSet(train_set, cfg.size, augment=cfg.augment, seed=cfg.seed)
    train_loader = loader(train_images, cfg.batch, cfg.workers, shuffle=True)
    val_loader = (
        loader(DetectionSet(val_set, cfg.size), cfg.batch, cfg.workers) if val_set is not None else None
    )

    def checkpoint(improved: bool) -> None:
        """Metrics, curves and checkpoints after an epoch (best.pt only when it improved)."""
        loop = state.to_dict()
        write_text_atomic(out / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in loop["history"]))
        ckpt = {
            "format": CHECKPOINT_FORMAT,
            "model": cfg.model,
            "classes": classes,
            "size": cfg.size,
            "backbone": spec.record(),
            "anchors": anchors.record(),
            "finest_stride": cfg.finest_stride,
            "epoch": state.epoch,
            "state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        }
        if improved:
            save_checkpoint(ckpt, out / "best.pt")
        save_checkpoint(
            {
                **ckpt,
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "loop": loop,
                "finished": state.epoch >= cfg.epochs,
            },
            out / "last.pt",
        )
        plot_curves(loop["history"], out / "curves.png")
        log.epochs(loop["history"])

    # --- epochs ---------------------------------------------------------------------------------------
    for epoch in range(state.epoch + 1, cfg.epochs + 1):
        epoch_seed = cfg.seed * 100_003 + epoch
        torch.manual_seed(epoch_seed)  # the detector's proposal and box sampling
        train_loader.generator.manual_seed(epoch_seed)  # the shuffle
        train_images.epoch = epoch  # the flips
        model.train()
        begun, seen = time.perf_counter(), 0
        sums: dict[str, float] = {}
        bar = tqdm(
            batches(train_loader),
            total=len(train_loader),
            disable=not cfg.progress,
            leave=False,
            unit="batch",
            desc=f"epoch {epoch}/{cfg.epochs}",
        )
        for step, (images, targets) in enumerate(bar):
            losses = _losses(model, images, targets, device)
            loss = sum(losses.values())
            if not torch.isfinite(loss):
                raise FeintError(
                    f"training diverged: the loss is {float(loss)} at epoch {epoch}, batch "
                    f"{step + 1}; lower --lr (now {cfg.lr})"
                )
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            seen += len(images)
            for k, v in {"loss": loss, **losses}.items():
                sums[k] = sums.get(k, 0.0) + float(v.detach()) * len(images)
        seconds = time.perf_counter() - begun
        row: dict[str, Any] = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            **{f"train_{k}": v / seen for k, v in sums.items()},
            "seconds": round(seconds, 3),
            "images_per_second": round(seen / seconds, 2),
        }
        if val_set is not None and val_loader is not None:
            row.update(_validate(model, val_loader, val_set, cfg))
            current = (row["val_map"], row["val_map50"], -row["val_loss"])  # early epochs often tie at 0
        else:
            current = (float(epoch), 0.0, 0.0)
        improved = current > tuple(state.best_score)
        if improved:
            state.best_epoch, state.best_score, state.stale = epoch, current, 0
        else:
            state.stale += 1
        row["best_epoch"] = state.best_epoch
        state.epoch = epoch
        state.history.append(row)
        checkpoint(improved)
    best = next(h for h in state.history if h["epoch"] == state.best_epoch)
    record.update(
        {
            "status": "done",
            "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "seconds_this_session": round(time.perf_counter() - started, 1),
            "epochs_run": state.epoch,
            "best_epoch": state.best_epoch,
            "best": best,
        }
    )
    write_json_atomic(out / "run.json", record)
    log.finish(state.history, record, out)
    return record
