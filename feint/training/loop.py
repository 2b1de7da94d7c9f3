"""The training loop both modes share: sampling, AdamW, warm-up + cosine, epochs, best epoch, resume.

`fit` knows nothing about images or run folders: it draws sample indices, asks `batch_of(indices,
train=True)` for (inputs, labels), steps the optimiser, scores the validation set, and hands every
finished epoch to `on_epoch` (which writes metrics and checkpoints). Every epoch reseeds its own random
generators from (seed, epoch), so a run resumed from the checkpoint after epoch k draws the same batches
and augmentations as one that never stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn


@dataclass
class LoopConfig:
    epochs: int = 10
    lr: float = 1e-4
    weight_decay: float = 0.05
    batch: int = 32
    warmup_epochs: float = 1.0
    seed: int = 0
    patience: int | None = None  # early stopping: epochs without a better validation score
    label_smoothing: float = 0.1


@dataclass
class LoopState:
    """What a resumed loop needs besides the weights: where it was and the best epoch so far."""

    epoch: int = 0  # epochs finished
    best_epoch: int = 0
    best_score: tuple[float, ...] = (
        -math.inf,
        -math.inf,
    )  # compared in order: the first that differs decides
    stale: int = 0
    history: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LoopState:
        return cls(d["epoch"], d["best_epoch"], tuple(d["best_score"]), d["stale"], list(d["history"]))


def sample_weights(
    labels: np.ndarray, sources: Sequence[str] | None = None, mix: dict[str, float] | None = None
) -> np.ndarray:
    """Per-image draw probabilities: every class equally likely, within each source; sources by `mix`.

    With mix {'real': 0.7, 'synthetic': 0.3}, 70 % of draws are real images; a source missing from the
    mix counts with weight 1. Without sources, plain class balance.
    """
    labels = np.asarray(labels)
    source_of = np.asarray(list(sources) if sources is not None else ["real"] * len(labels))
    names = sorted(set(source_of.tolist()))
    mix = mix or {}
    total = sum(mix.get(s, 1.0) for s in names)
    weights = np.zeros(len(labels), dtype=np.float64)
    for s in names:
        mine = source_of == s
        classes, counts = np.unique(labels[mine], return_counts=True)
        per_class = dict(zip(classes.tolist(), counts.tolist(), strict=True))
        share = mix.get(s, 1.0) / total
        for i in np.flatnonzero(mine):
            weights[i] = share / len(classes) / per_class[int(labels[i])]
    return weights / weights.sum()


def epoch_indices(weights: np.ndarray, seed: int, epoch: int) -> np.ndarray:
    """This epoch's draws (with replacement, as many as images), fixed by (seed, epoch)."""
    rng = np.random.default_rng([seed, epoch, 7])
    return rng.choice(len(weights), size=len(weights), replace=True, p=weights)


def warmup_cosine(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int):  # noqa: ANN201
    """Linear warm-up from ~0 to the set rate, then cosine down to 0 at the last step."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / (warmup_steps + 1)
        progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def make_optimizer(groups: list[dict[str, Any]], cfg: LoopConfig) -> torch.optim.Optimizer:
    """AdamW; no weight decay on biases and normalisation weights (1-d tensors)."""
    split = []
    for g in groups:
        params = [p for p in g["params"] if p.requires_grad]
        decay = [p for p in params if p.ndim > 1]
        plain = [p for p in params if p.ndim <= 1]
        lr = g.get("lr", cfg.lr)
        split += [
            {"params": decay, "lr": lr, "weight_decay": cfg.weight_decay},
            {"params": plain, "lr": lr, "weight_decay": 0.0},
        ]
    return torch.optim.AdamW([g for g in split if g["params"]], lr=cfg.lr)


def score(logits: torch.Tensor, labels: torch.Tensor, n_classes: int) -> dict[str, float]:
    """Loss, accuracy and balanced accuracy (mean recall over the classes present)."""
    loss = float(nn.functional.cross_entropy(logits, labels))
    pred = logits.argmax(1)
    recalls = [
        float((pred[labels == c] == c).float().mean()) for c in range(n_classes) if (labels == c).any()
    ]
    return {
        "loss": loss,
        "accuracy": float((pred == labels).float().mean()),
        "balanced_accuracy": float(np.mean(recalls)) if recalls else 0.0,
    }


BatchFn = Callable[[np.ndarray, bool], tuple[torch.Tensor, torch.Tensor]]


def fit(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    batch_of: BatchFn,
    weights: np.ndarray,
    cfg: LoopConfig,
    validate: Callable[[nn.Module], dict[str, float]] | None = None,
    state: LoopState | None = None,
    scheduler: Any = None,
    on_epoch: Callable[[LoopState, bool], None] | None = None,
    progress: bool = False,
    amp: torch.dtype | None = None,
) -> LoopState:
    """Train for cfg.epochs (from state.epoch on); the best epoch is the one with the lowest validation
    loss (ties: higher balanced accuracy), or the last one without validation. `amp`: the forward pass in
    that reduced precision under torch.autocast on CUDA (float16 with a GradScaler against underflowing
    gradients; `feint.training.device.autocast_dtype`); None: float32, as on the CPU."""
    from tqdm import tqdm

    state = state or LoopState()
    scaler = torch.amp.GradScaler("cuda") if amp == torch.float16 else None
    steps_per_epoch = math.ceil(len(weights) / cfg.batch)
    if scheduler is None:
        scheduler = warmup_cosine(
            optimizer, round(cfg.warmup_epochs * steps_per_epoch), cfg.epochs * steps_per_epoch
        )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    for epoch in range(state.epoch + 1, cfg.epochs + 1):
        torch.manual_seed(cfg.seed * 100_003 + epoch)  # augmentations and dropout of this epoch
        order = epoch_indices(weights, cfg.seed, epoch)
        model.train()
        started, seen, loss_sum, correct = time.perf_counter(), 0, 0.0, 0
        bar = tqdm(
            range(0, len(order), cfg.batch),
            disable=not progress,
            leave=False,
            unit="batch",
            desc=f"epoch {epoch}/{cfg.epochs}",
        )
        for start in bar:
            x, y = batch_of(order[start : start + cfg.batch], True)
            if amp is None:
                logits = model(x)
                loss = loss_fn(logits, y)
            else:
                with torch.autocast("cuda", dtype=amp):
                    logits = model(x)
                loss = loss_fn(logits.float(), y)
            optimizer.zero_grad(set_to_none=True)
            if scaler is None:
                loss.backward()
                optimizer.step()
            else:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            scheduler.step()
            seen += len(y)
            loss_sum += float(loss.detach()) * len(y)
            correct += int((logits.argmax(1) == y).sum())
        seconds = time.perf_counter() - started
        record: dict[str, Any] = {
            "epoch": epoch,
            "lr": optimizer.param_groups[0]["lr"],
            "train_loss": loss_sum / seen,
            "train_accuracy": correct / seen,
            "seconds": round(seconds, 3),
            "images_per_second": round(seen / seconds, 2),
        }
        if validate is not None:
            model.eval()
            record.update({f"val_{k}": v for k, v in validate(model).items()})
            current = (-record["val_loss"], record["val_balanced_accuracy"])
        else:
            current = (float(epoch), 0.0)
        improved = current > tuple(state.best_score)
        if improved:
            state.best_epoch, state.best_score, state.stale = epoch, current, 0
        else:
            state.stale += 1
        record["best_epoch"] = state.best_epoch
        state.epoch = epoch
        state.history.append(record)
        if on_epoch is not None:
            on_epoch(state, improved)
        if cfg.patience is not None and validate is not None and state.stale >= cfg.patience:
            break
    return state
