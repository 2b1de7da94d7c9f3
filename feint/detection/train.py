"""A detection run, top to bottom: data, detector, optimiser, schedule, epochs, checkpoints, resume.

    from feint.detection.train import DetectConfig, train_detector
    train_detector(DetectConfig(data="runs/bottles-split", out="runs/det-a", epochs=12))

The run folder mirrors a classification run's: config.json (what was asked), run.json (versions, seed,
machine, data, status, best epoch), data.csv (every image used and its part), metrics.jsonl (one line per
epoch: losses, validation loss and mAP), curves.png, best.pt (highest validation mAP@0.5:0.95, then
mAP@0.5, then lowest validation loss; the last epoch without validation data), last.pt (with optimiser,
schedule and loop state). A killed run continues from last.pt with --resume and ends with the same
numbers as one that never stopped: each epoch reseeds its shuffling, flips and the detector's sampling
from (seed, epoch). A finished run is logged to a local MLflow store (parameters, metrics per epoch,
curves, run.json).

Optimisation follows torchvision's detection reference: SGD with momentum 0.9 and weight decay 1e-4 at
lr 0.01 (or AdamW at 1e-4), linear warm-up then cosine to zero, every step.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.io import write_json_atomic, write_text_atomic
from feint.run_folder import prepare_run_folder

OPTIMIZERS = ("sgd", "adamw")
DEFAULT_LR = {"sgd": 0.01, "adamw": 1e-4}
# Fields that may change between a run and its resumption (they do not change the numbers).
RESUME_FREE = ("progress", "device", "out", "workers", "mlflow")
TIMING = ("seconds", "images_per_second")  # per-epoch fields that measure the machine, not the model


@dataclass
class DetectConfig:
    data: str
    out: str
    model: str = "fasterrcnn"  # or a YOLO model (yolo11n.yaml, a .pt file): the Ultralytics backend
    backbone: str = "mobilenet_v2"
    classes: list[str] | None = None
    split: str | None = None  # default: the data's train split when it has one
    val: str | None = None  # a validation dataset; default: the data's val split when it has one
    val_split: str | None = None  # the split of `val` (or of `data`) to validate on
    format: str | None = None
    epochs: int = 20
    batch: int = 4
    size: int = 320
    optimizer: str = "sgd"
    lr: float | None = None
    weight_decay: float = 1e-4
    warmup_epochs: float = 1.0
    seed: int = 0
    workers: int = 0
    device: str = "cpu"
    mlflow: str | None = None  # MLflow store folder; None: no logging
    progress: bool = True

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise FeintError(f"--optimizer {self.optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]


def select_data(cfg: DetectConfig, notes: list[tuple[str, str]] | None = None) -> tuple[Any, Any]:
    """Training and validation datasets (validation may be None).

    Training: the data's `split` (default: its train split if it has splits, a note in `notes` saying so;
    splits without a train split need `split`). Validation: `val` (its `val_split` if given), else the
    data's `val_split` or, by default, its val split; never images (or, within the data, groups) that are
    trained on. Notes go to `notes` when given, else they are printed.
    """
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes
    from feint.training.data import check_held_out, tell, training_split

    told: list[tuple[str, str]] = [] if notes is None else notes
    dataset = load_dataset(Path(cfg.data), cfg.format)
    split = cfg.split or training_split(cfg.data, dataset, None, told)
    train = dataset.split(split) if split else dataset
    held = None
    if cfg.val:
        held = load_dataset(Path(cfg.val), None, cfg.val_split)
        same = os.path.realpath(cfg.val) == os.path.realpath(cfg.data)
        check_held_out(held, [train], f"--val {cfg.val}", train if same else None)
    elif cfg.val_split or (split == "train" and "val" in dataset.splits):
        name = cfg.val_split or "val"
        if name == split:
            raise FeintError(
                f"--val-split {name}: that is the split trained on; validate on another split "
                f"of {cfg.data} ({', '.join(dataset.splits)}) or on another dataset (--val)"
            )
        held = dataset.split(name)
        check_held_out(
            held, [train], f"--val-split {name}" if cfg.val_split else f"the val split of {cfg.data}", train
        )
    if cfg.classes:
        train = keep_classes(train, list(cfg.classes))
        held = keep_classes(held, list(cfg.classes)) if held is not None else None
    if notes is None:  # a library call: say it now (the command says it once the run starts)
        tell(told)
    return train, held


def detection_sets_of(train: Any, held: Any) -> tuple[Any, Any]:
    """`BoxedImages` of the datasets; an error for no boxes, or a class without training boxes."""
    from feint.detection.data import from_dataset

    train_set = from_dataset(train)
    empty = [c for c, k in train_set.counts().items() if k == 0]
    if empty:
        raise FeintError(
            f"class {empty[0]!r} has no training boxes in {train.root}; train on the others with --classes"
        )
    return train_set, from_dataset(held, train_set.classes) if held is not None else None


def prepare_folder(cfg: DetectConfig, resume: bool) -> dict[str, Any] | None:
    """Create the run folder, or check that it is this run's to resume; returns last.pt if resuming."""
    from feint.detection.runs import load_checkpoint

    last = prepare_run_folder(Path(cfg.out), asdict(cfg), resume, RESUME_FREE)
    return load_checkpoint(last) if last is not None else None


def data_rows(train: Any, val: Any) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """data.csv's rows (file, box count, source, group, part) and the fingerprinted ones (file, part,
    source, every box with its class)."""
    rows, keyed = [], []
    for part, images in (("train", train), ("val", val)):
        if images is None:
            continue
        for p, boxes, labels, s, g in zip(
            images.paths, images.boxes, images.labels, images.sources, images.groups, strict=True
        ):
            rows.append({"file": str(p), "boxes": len(labels), "source": s, "group": g, "part": part})
            objects = [
                [images.classes[k], *(round(float(v), 3) for v in b)]
                for b, k in zip(boxes.tolist(), labels.tolist(), strict=True)
            ]
            keyed.append((str(p), part, s, sorted(objects)))
    return rows, keyed


def _write_data_table(out: Path, rows: list[dict[str, Any]]) -> None:
    import pandas as pd

    write_text_atomic(out / "data.csv", pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"))


def _optimizer(cfg: DetectConfig, params: list[Any]) -> Any:
    import torch

    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    from feint.training.loop import LoopConfig, make_optimizer

    return make_optimizer(
        [{"params": params, "lr": cfg.lr}], LoopConfig(lr=cfg.lr, weight_decay=cfg.weight_decay)
    )


def _losses(model: Any, images: list[Any], targets: list[dict[str, Any]], device: Any) -> dict[str, Any]:
    """The detector's training losses for one batch (uint8 images scaled to [0, 1] here)."""
    x = [img.to(device).float().div_(255) for img in images]
    y = [{"boxes": t["boxes"].to(device), "labels": t["labels"].to(device)} for t in targets]
    return model(x, y)


def _validate(model: Any, val_loader: Any, val_set: Any, cfg: DetectConfig) -> dict[str, float]:
    """Validation loss (training-mode forward, no gradient: batch norms are frozen, nothing changes)
    and COCO mAP of the detections."""
    import torch

    from feint.detection.data import batches
    from feint.detection.evaluate import coco_scores
    from feint.detection.runs import coco_results, detect_images

    model.train()
    total, seen = 0.0, 0
    with torch.no_grad():
        for images, targets in batches(val_loader):
            total += float(sum(_losses(model, images, targets, cfg.device).values())) * len(images)
            seen += len(images)
    found = detect_images(model, val_set.paths, cfg.size, val_set.sizes, cfg.batch, cfg.workers, cfg.device)
    scores = coco_scores(val_set.coco(), coco_results(found))
    return {"val_loss": total / seen, "val_map": scores["map"], "val_map50": scores["map50"]}


def train_detector(cfg: DetectConfig, resume: bool = False) -> dict[str, Any]:
    """Run (or continue) training into cfg.out; returns the run record (run.json)."""
    from feint.detection.yolo import is_yolo_model
    from feint.training.device import resolve_device

    resolve_device(cfg.device)
    if is_yolo_model(cfg.model):
        from feint.detection.yolo import train_yolo

        return train_yolo(cfg, resume)
    return _train_torchvision(cfg, resume)


def _train_torchvision(cfg: DetectConfig, resume: bool) -> dict[str, Any]:
    import torch
    from tqdm import tqdm

    from feint.detection.data import batches, loader
    from feint.detection.models import build_detector
    from feint.detection.plots import plot_curves
    from feint.detection.runs import CHECKPOINT_FORMAT
    from feint.run_folder import check_same_data, data_fingerprint, save_checkpoint
    from feint.training.backbones import get_spec
    from feint.training.data import tell
    from feint.training.loop import LoopState, warmup_cosine
    from feint.training.run import versions

    # --- data -----------------------------------------------------------------------------------------
    spec = get_spec(cfg.backbone)
    notes: list[tuple[str, str]] = []
    train_set, val_set = detection_sets_of(*select_data(cfg, notes))
    classes = train_set.classes
    rows, keyed = data_rows(train_set, val_set)
    fingerprint = data_fingerprint(keyed, classes)
    last = prepare_folder(cfg, resume)
    out = Path(cfg.out)
    check_same_data(out, fingerprint, classes, rows, "boxes")
    if last is not None and last.get("finished"):
        return json.loads((out / "run.json").read_text())
    tell(notes)
    _write_data_table(out, rows)
    record: dict[str, Any] = {
        "status": "running",
        "model": cfg.model,
        "seed": cfg.seed,
        "classes": classes,
        "backbone": spec.record(),
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
    model = build_detector(spec, len(classes), cfg.size, cfg.model).to(device)
    optimizer = _optimizer(cfg, [p for p in model.parameters() if p.requires_grad])
    steps = math.ceil(len(train_set) / cfg.batch)
    scheduler = warmup_cosine(optimizer, round(cfg.warmup_epochs * steps), cfg.epochs * steps)
    state = LoopState()
    if last is not None:  # --- resume ---
        model.load_state_dict(last["state"])
        optimizer.load_state_dict(last["optimizer"])
        scheduler.load_state_dict(last["scheduler"])
        state = LoopState.from_dict(last["loop"])
    train_loader = loader(train_set, cfg.size, cfg.batch, cfg.workers, shuffle=True, flip=True, seed=cfg.seed)
    val_loader = loader(val_set, cfg.size, cfg.batch, cfg.workers) if val_set is not None else None

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

    # --- epochs ---------------------------------------------------------------------------------------
    for epoch in range(state.epoch + 1, cfg.epochs + 1):
        epoch_seed = cfg.seed * 100_003 + epoch
        torch.manual_seed(epoch_seed)  # the detector's proposal and box sampling
        train_loader.generator.manual_seed(epoch_seed)  # the shuffle
        train_loader.dataset.epoch = epoch  # the flips
        model.train()
        begun, seen, sums = time.perf_counter(), 0, {}
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
        if val_loader is not None:
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
    if cfg.mlflow:
        log_mlflow(Path(cfg.mlflow), out, asdict(cfg), state.history, record)
    return record


def log_mlflow(
    store: Path, out: Path, params: dict[str, Any], history: list[dict[str, Any]], record: dict[str, Any]
) -> None:
    """The finished run in the MLflow store `store` (experiment 'detect'): parameters, per-epoch metrics,
    the best epoch's numbers, curves.png and run.json."""
    from feint.studies.tracking import open_store

    mlflow = open_store(store, "detect")
    with mlflow.start_run(run_name=out.name):
        mlflow.set_tag("run_folder", str(out.resolve()))
        mlflow.log_params({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in params.items()})
        for row in history:
            mlflow.log_metrics(
                {
                    k: float(v)
                    for k, v in row.items()
                    if k not in ("epoch", *TIMING) and isinstance(v, int | float)
                },
                step=row["epoch"],
            )
        mlflow.log_metrics(
            {
                f"best_{k}": float(v)
                for k, v in record["best"].items()
                if k.startswith("val_") and v is not None
            }
        )
        for name in ("curves.png", "run.json"):
            if (out / name).is_file():
                mlflow.log_artifact(str(out / name))
