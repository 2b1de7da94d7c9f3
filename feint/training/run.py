"""A training run, top to bottom: data, model, optimiser, schedule, loop, checkpoint, resume.

    from feint.training.run import TrainConfig, train
    train(TrainConfig(data=["runs/ships-split"], split="train", classes=["sailboat", "tug"], out="runs/a"))

Two modes. `finetune` trains backbone and head on augmented images decoded once into a memory-mapped
cache. `frozen` computes the backbone's features once per (image, backbone, size) into the feature cache
and trains only the head on them: seconds per run once the features exist.

The run folder: config.json (what was asked), run.json (versions, seed, data, status, best epoch),
data.csv (every image used and its part), metrics.jsonl (one line per epoch), curves.png, best.pt,
last.pt (with optimiser, schedule and loop state). A killed run continues from last.pt with --resume and
ends with the same numbers as one that never stopped.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from feint.errors import FeintError
from feint.io import write_json_atomic, write_text_atomic
from feint.run_folder import (
    check_same_data,
    data_fingerprint,
    prepare_run_folder,
    read_checkpoint,
    save_checkpoint,
)

MODES = ("finetune", "frozen")
CHECKPOINT_FORMAT = "feint-classifier/1"
# Fields that may change between a run and its resumption (they do not change the numbers).
RESUME_FREE = ("progress", "cache", "device", "out")


@dataclass
class TrainConfig:
    data: list[str]
    out: str
    classes: list[str] | None = None
    split: str | None = None  # read only this split of each input (e.g. train)
    format: str | None = None
    val: float = 0.1  # group-disjoint fraction of the training images held out to pick the best epoch
    val_split: str | None = None  # or: this split of the first input
    mix: dict[str, float] = field(default_factory=dict)  # draw share per source, e.g. {"synthetic": 0.3}
    backbone: str = "efficientnet_lite0"
    arch: str | None = None  # with `weights`: register `backbone` as this architecture (timm:/torchvision:)
    weights: str | None = None
    mode: str = "finetune"
    epochs: int = 10
    lr: float | None = (
        None  # default: 1e-4 fine-tuning (higher rates wipe out the pretrained weights), 1e-3 heads
    )
    head_lr_mult: float = 10.0  # fine-tuning: the new head learns this much faster than the backbone
    weight_decay: float = 0.05
    batch: int = 32
    size: int = 224
    seed: int = 0
    warmup_epochs: float = 1.0
    patience: int | None = None
    label_smoothing: float = 0.1
    hidden: int = 0  # head: 0 linear, else MLP hidden width
    dropout: float = 0.2
    # frozen: the head also sees features of mirrored images (+0.8 points on 10-class ships-dev, 4 seeds)
    mirror_features: bool = True
    init: str | None = None  # start from this run's weights
    cache: str | None = None
    device: str = "cpu"
    progress: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise FeintError(f"--mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if self.lr is None:
            self.lr = 1e-4 if self.mode == "finetune" else 1e-3


def versions() -> dict[str, str]:
    import torch
    import torchvision

    import feint

    found = {
        "feint": feint.__version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }
    try:
        import timm

        found["timm"] = timm.__version__
    except ImportError:
        pass
    return found


def load_checkpoint(path: Path) -> dict[str, Any]:
    return read_checkpoint(path, CHECKPOINT_FORMAT, "classifier", "a finished `feint train` run")


def _backbone_spec(cfg: TrainConfig):  # noqa: ANN202
    from feint.training.backbones import get_spec, register_backbone

    if cfg.arch or cfg.weights:
        if not (cfg.arch and cfg.weights):
            raise FeintError("--arch and --weights go together: an architecture and its weight file")
        return register_backbone(
            cfg.backbone, cfg.arch, cfg.weights, source=f"user: {cfg.weights}", replace=True
        )
    return get_spec(cfg.backbone)


def _prepare_folder(cfg: TrainConfig, resume: bool) -> dict[str, Any] | None:
    """Create the run folder, or check that it is this run's to resume; returns last.pt if resuming."""
    last = prepare_run_folder(Path(cfg.out), asdict(cfg), resume, RESUME_FREE)
    return load_checkpoint(last) if last is not None else None


def _data_rows(train, val) -> list[dict[str, Any]]:  # noqa: ANN001
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


def _init_weights(head, backbone, init: str, classes: list[str], spec, hidden: int) -> list[str]:  # noqa: ANN001
    """Load another run's weights: its backbone (if it trained one) and the head rows of shared classes.

    Classes are matched by name, so a synthetic run's head carries over to a real run with the same
    classes in any order; a class the other run did not have keeps its new random row.
    """
    ckpt = load_checkpoint(Path(init) / "best.pt")
    if ckpt["backbone"]["arch"] != spec.arch:
        raise FeintError(f"--init {init}: its backbone is {ckpt['backbone']['arch']}, this run's {spec.arch}")
    loaded = []
    if backbone is not None and ckpt["state"]["backbone"] is not None:
        backbone.load_state_dict(ckpt["state"]["backbone"])
        loaded.append("backbone")
    own = head.state_dict()
    if ckpt["head"] != {"hidden": hidden, "width": int(own["0.mean"].shape[0])}:
        return loaded
    theirs = ckpt["classes"]
    shared = [c for c in classes if c in theirs]
    final = [k for k in own if k.endswith(("weight", "bias"))][-2:]  # the class layer
    for k, v in ckpt["state"]["head"].items():
        if k in final:
            for c in shared:
                own[k][classes.index(c)] = v[theirs.index(c)]
        else:
            own[k] = v.clone()
    head.load_state_dict(own)
    return [*loaded, f"head ({len(shared)}/{len(classes)} classes)"]


def train(cfg: TrainConfig, resume: bool = False) -> dict[str, Any]:
    """Run (or continue) training into cfg.out; returns the run record (run.json)."""
    import torch

    from feint.training.data import tell, training_sets
    from feint.training.device import resolve_device
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

    def checkpoint(state: dict[str, Any], loop: dict[str, Any], best: bool, extra: dict[str, Any]) -> None:
        """Write metrics and checkpoints after an epoch (best.pt only when it improved), curves at the end
        and at most every 20 s (a plot costs ~0.3 s: more than a frozen head's epoch)."""
        write_text_atomic(out / "metrics.jsonl", "".join(json.dumps(h) + "\n" for h in loop["history"]))
        ckpt = {
            "format": CHECKPOINT_FORMAT,
            "classes": classes,
            "size": cfg.size,
            "mode": cfg.mode,
            "backbone": spec.record(),
            "head": {"hidden": cfg.hidden, "width": state["width"]},
            "state": {"head": state["head"], "backbone": state["backbone"]},
            "epoch": loop["epoch"],
        }
        if best:
            save_checkpoint(ckpt, out / "best.pt")
        finished = loop["epoch"] >= cfg.epochs or (cfg.patience is not None and loop["stale"] >= cfg.patience)
        save_checkpoint({**ckpt, **extra, "loop": loop, "finished": finished}, out / "last.pt")
        if finished or time.perf_counter() - last_plot[0] > 20:
            plot_curves(loop["history"], out / "curves.png")
            last_plot[0] = time.perf_counter()

    if cfg.mode == "frozen":
        state = _train_frozen(cfg, spec, train_set, val_set, last, checkpoint)
    else:
        state = _train_finetune(cfg, spec, train_set, val_set, last, checkpoint)
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
    return record


def _train_frozen(cfg: TrainConfig, spec, train_set, val_set, last, checkpoint):  # noqa: ANN001, ANN202
    """Features once (cache), then the head: the cheap mode."""
    from feint.training.cache import feature_rows
    from feint.training.head import HeadConfig, train_head

    def feats(images, mirrored=False):  # noqa: ANN001, ANN202
        return feature_rows(
            images.paths,
            spec,
            cfg.size,
            cfg.cache,
            images.sizes,
            progress=cfg.progress,
            device=cfg.device,
            mirrored=mirrored,
        )

    x_train, y_train, sources = feats(train_set), train_set.labels, train_set.sources
    if cfg.mirror_features:  # mirrored copies: the flip augmentation of fine-tuning, done once
        x_train = np.concatenate([x_train, feats(train_set, mirrored=True)])
        y_train = np.concatenate([y_train, y_train])
        sources = [*sources, *sources]
    val = (feats(val_set), val_set.labels) if val_set is not None else None
    head_cfg = HeadConfig(
        cfg.epochs,
        cfg.lr,
        cfg.weight_decay,
        cfg.batch,
        cfg.warmup_epochs,
        cfg.hidden,
        cfg.dropout,
        cfg.label_smoothing,
        cfg.patience,
        cfg.seed,
    )
    width = x_train.shape[1]
    head = None
    if cfg.init and last is None:
        import torch

        from feint.training.model import make_head

        torch.manual_seed(cfg.seed)
        head = make_head(width, len(train_set.classes), cfg.hidden, cfg.dropout)
        head[0].set(torch.as_tensor(x_train))
        _init_weights(head, None, cfg.init, train_set.classes, spec, cfg.hidden)

    def on_epoch(loop_state, improved, extra):  # noqa: ANN001, ANN202
        state = {"head": extra["head"], "backbone": None, "width": width}
        checkpoint(state, loop_state.to_dict(), improved, {"resume": extra})

    resume = last["resume"] if last is not None else None
    result = train_head(
        x_train, y_train, len(train_set.classes), head_cfg, val, sources, cfg.mix, head, resume, on_epoch
    )
    return result.state


def _train_finetune(cfg: TrainConfig, spec, train_set, val_set, last, checkpoint):  # noqa: ANN001, ANN202
    """Backbone and head on augmented images from the image cache."""
    import torch

    from feint.training.backbones import create_backbone
    from feint.training.cache import image_rows
    from feint.training.loop import (
        LoopConfig,
        LoopState,
        fit,
        make_optimizer,
        sample_weights,
        score,
        warmup_cosine,
    )
    from feint.training.model import Classifier, make_head
    from feint.training.transforms import train_augment

    device = torch.device(cfg.device)
    images = image_rows(train_set.paths, cfg.size, cfg.cache, train_set.sizes, progress=cfg.progress)
    val_images = (
        image_rows(val_set.paths, cfg.size, cfg.cache, val_set.sizes, progress=cfg.progress)
        if val_set is not None
        else None
    )
    # --- model ----------------------------------------------------------------------------------------
    torch.manual_seed(cfg.seed)
    backbone = create_backbone(spec, pretrained=True)
    width = int(backbone.num_features)
    model = Classifier(
        backbone, make_head(width, len(train_set.classes), cfg.hidden, cfg.dropout), spec.mean, spec.std
    )
    if cfg.init and last is None:
        _init_weights(model.head, model.backbone, cfg.init, train_set.classes, spec, cfg.hidden)
    model.to(device, memory_format=torch.channels_last)  # NHWC: about 1.6x faster convolutions on CPU
    # --- optimiser and schedule -----------------------------------------------------------------------
    loop_cfg = LoopConfig(
        cfg.epochs,
        cfg.lr,
        cfg.weight_decay,
        cfg.batch,
        cfg.warmup_epochs,
        cfg.seed,
        cfg.patience,
        cfg.label_smoothing,
    )
    optimizer = make_optimizer(
        [
            {"params": list(model.backbone.parameters()), "lr": cfg.lr},
            {"params": list(model.head.parameters()), "lr": cfg.lr * cfg.head_lr_mult},
        ],
        loop_cfg,
    )
    steps = -(-len(train_set) // cfg.batch)
    scheduler = warmup_cosine(optimizer, round(cfg.warmup_epochs * steps), cfg.epochs * steps)
    state = None
    if last is not None:  # --- resume ---
        model.backbone.load_state_dict(last["state"]["backbone"])
        model.head.load_state_dict(last["state"]["head"])
        optimizer.load_state_dict(last["optimizer"])
        scheduler.load_state_dict(last["scheduler"])
        state = LoopState.from_dict(last["loop"])
    augment = train_augment(cfg.size)

    def batch_of(index: np.ndarray, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        x = torch.from_numpy(np.stack([images[i] for i in index])).permute(0, 3, 1, 2)
        if train:
            x = torch.stack([augment(img) for img in x])
        x = x.to(device).contiguous(memory_format=torch.channels_last)
        return x, torch.from_numpy(train_set.labels[index]).to(device)

    def validate(net: torch.nn.Module) -> dict[str, float]:
        logits = []
        with torch.inference_mode():
            for start in range(0, len(val_set), 64):
                idx = range(start, min(start + 64, len(val_set)))
                x = torch.from_numpy(np.stack([val_images[i] for i in idx])).permute(0, 3, 1, 2)
                logits.append(net(x.to(device).contiguous(memory_format=torch.channels_last)).float().cpu())
        return score(torch.cat(logits), torch.from_numpy(val_set.labels), len(train_set.classes))

    def on_epoch(loop_state: LoopState, improved: bool) -> None:
        cpu = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        state = {
            "backbone": {k[len("backbone.") :]: v for k, v in cpu.items() if k.startswith("backbone.")},
            "head": {k[len("head.") :]: v for k, v in cpu.items() if k.startswith("head.")},
            "width": width,
        }
        checkpoint(
            state,
            loop_state.to_dict(),
            improved,
            {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
        )

    # --- loop -----------------------------------------------------------------------------------------
    return fit(
        model,
        optimizer,
        batch_of,
        sample_weights(train_set.labels, train_set.sources, cfg.mix),
        loop_cfg,
        validate if val_set is not None else None,
        state,
        scheduler,
        on_epoch,
        progress=cfg.progress,
    )
