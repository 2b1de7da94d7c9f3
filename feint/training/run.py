"""A training run, top to bottom: data, model, optimiser, schedule, loop, checkpoint, resume.

    from feint.training.run import TrainConfig, train
    train(TrainConfig(data=["runs/ships-split"], split="train", classes=["sailboat", "tug"], out="runs/a"))

Two modes. `finetune` trains backbone and head on augmented images decoded once into a memory-mapped
cache. `frozen` computes the backbone's features once per (image, backbone, size) into the feature cache
and trains only the head on them: seconds per run once the features exist.

The run folder: config.json (what was asked), run.json (versions, seed, data, status, best epoch),
data.csv (every image used and its part), metrics.jsonl (one line per epoch), curves.png, best.pt,
last.pt (with optimiser, schedule and loop state). A killed run continues from last.pt with --resume and
ends with the same numbers as one that never stopped. With a tracker (`--tracker`), every epoch is logged
as it ends, then the final numbers and the run's files (feint/tracking.py).

This file is the run around the modes: data, folder, record and checkpoint files. The modes' loops are
frozen.py and finetune.py; the options are config.py; --init is init_from_run.py.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from feint.errors import FeintError
from feint.io import write_json_atomic, write_text_atomic
from feint.run_folder import (
    check_same_data,
    data_fingerprint,
    prepare_run_folder,
    save_checkpoint,
    versions,
)
from feint.tracking import Tracker, TrainingLog
from feint.training.backbones import BackboneSpec, custom_backbone, get_backbone_spec
from feint.training.checkpoint import CHECKPOINT_FORMAT, load_checkpoint
from feint.training.config import TrainConfig
from feint.training.data import LabelledImages

__all__ = ["TrainConfig", "load_checkpoint", "train"]  # the entry points (CLI, tests, benchmarks)

# Fields that may change between a run and its resumption (they do not change the numbers).
RESUME_FREE = ("progress", "cache", "device", "out")


def _backbone_spec(cfg: TrainConfig) -> BackboneSpec:
    """The registered backbone, or the one --arch and --weights describe."""
    if cfg.arch or cfg.weights:
        if not (cfg.arch and cfg.weights):
            raise FeintError("--arch and --weights go together: an architecture and its weight file")
        return custom_backbone(cfg.backbone, cfg.arch, cfg.weights, source=f"user: {cfg.weights}")
    return get_backbone_spec(cfg.backbone)


def _prepare_folder(cfg: TrainConfig, resume: bool) -> dict[str, Any] | None:
    """Create the run folder, or check that it is this run's to resume; returns last.pt if resuming."""
    last = prepare_run_folder(Path(cfg.out), asdict(cfg), resume, RESUME_FREE)
    return load_checkpoint(last) if last is not None else None


def _data_rows(train: LabelledImages, val: LabelledImages | None) -> list[dict[str, Any]]:
    """data.csv: every image used, its class, source, group and part (train or val)."""
    rows = []
    for part, images in (("train", train), ("val", val)):
        if images is None:
            continue
        for p, k, s, g in zip(images.paths, images.labels, images.sources, images.groups, strict=True):
            rows.append({"file": str(p), "class": images.classes[k], "source": s, "group": g, "part": part})
    return rows


def _write_data_table(out: Path, rows: list[dict[str, Any]]) -> None:
    import pandas as pd

    write_text_atomic(out / "data.csv", pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"))


def train(cfg: TrainConfig, resume: bool = False, tracker: Tracker | None = None) -> dict[str, Any]:
    """Run (or continue) training into cfg.out; returns the run record (run.json). With a `tracker`, the
    run is also logged there (as failed if training fails after its first epoch)."""
    with TrainingLog(tracker, Path(cfg.out).resolve().name, asdict(cfg)) as log:
        return _train(cfg, resume, log)


def _train(cfg: TrainConfig, resume: bool, log: TrainingLog) -> dict[str, Any]:
    import torch

    from feint.training.data import tell, training_sets
    from feint.training.device import resolve_device
    from feint.training.finetune import train_finetune
    from feint.training.frozen import train_frozen
    from feint.training.plots import plot_curves

    # --- data -----------------------------------------------------------------------------------------
    resolve_device(cfg.device)
    spec = _backbone_spec(cfg)
    notes: list[tuple[str, str]] = []
    train_set, val_set = training_sets(
        cfg.data, cfg.split, cfg.classes, cfg.val, cfg.val_split, cfg.seed, cfg.format, notes
    )
    classes = train_set.classes
    missing = [c for c, k in train_set.counts().items() if k == 0]
    if missing:
        raise FeintError(f"class {missing[0]!r} has no training images ({', '.join(cfg.data)})")
    if cfg.patience is not None and val_set is None:
        notes.append(("warning", f"--patience {cfg.patience} has no effect without validation images"))
    rows = _data_rows(train_set, val_set)
    fingerprint = data_fingerprint([(r["file"], r["class"], r["source"], r["part"]) for r in rows], classes)
    last = _prepare_folder(cfg, resume)
    out = Path(cfg.out)
    check_same_data(out, fingerprint, classes, rows, "class")
    if last is not None and last.get("finished"):
        return json.loads((out / "run.json").read_text())
    tell(notes)
    _write_data_table(out, rows)
    record: dict[str, Any] = {
        "status": "running",
        "mode": cfg.mode,
        "seed": cfg.seed,
        "classes": classes,
        "backbone": spec.record(),
        "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(), "device": cfg.device},
        "data": {
            "train": len(train_set),
            "val": len(val_set) if val_set is not None else 0,
            "train_per_class": train_set.counts(),
            "train_per_source": {s: train_set.sources.count(s) for s in sorted(set(train_set.sources))},
            "fingerprint": fingerprint,
        },
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "resumed_at_epoch": last["loop"]["epoch"] if last else None,
    }
    write_json_atomic(out / "run.json", record)
    torch.manual_seed(cfg.seed)
    np.random.seed(cfg.seed)
    started = time.perf_counter()

    last_plot = [0.0]

    def save_epoch(weights: dict[str, Any], loop: dict[str, Any], best: bool, extra: dict[str, Any]) -> None:
        """Write metrics and checkpoints after an epoch (best.pt only when it improved), curves at the end
        and at most every 20 s (a plot costs ~0.3 s: more than a frozen head's epoch)."""
        write_text_atomic(out / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in loop["history"]))
        ckpt = {
            "format": CHECKPOINT_FORMAT,
            "classes": classes,
            "size": cfg.size,
            "mode": cfg.mode,
            "backbone": spec.record(),
            "head": {"hidden": cfg.hidden, "width": weights["width"]},
            "state": {"head": weights["head"], "backbone": weights["backbone"]},
            "epoch": loop["epoch"],
        }
        if best:
            save_checkpoint(ckpt, out / "best.pt")
        finished = loop["epoch"] >= cfg.epochs or (cfg.patience is not None and loop["stale"] >= cfg.patience)
        save_checkpoint({**ckpt, **extra, "loop": loop, "finished": finished}, out / "last.pt")
        if finished or time.perf_counter() - last_plot[0] > 20:
            plot_curves(loop["history"], out / "curves.png")
            last_plot[0] = time.perf_counter()
        log.epochs(loop["history"])

    run_mode = train_frozen if cfg.mode == "frozen" else train_finetune
    state = run_mode(cfg, spec, train_set, val_set, last, save_epoch)
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
