"""The fine-tune mode: backbone and head train together on augmented images from the image cache.

Top to bottom: images, model, optimiser and schedule, resume, batches, validation, loop. The backbone
learns at `lr`, the new head `head_lr_mult` times faster.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from feint.training.backbones import BackboneSpec, create_backbone, feature_width
from feint.training.cache import Rows, image_rows
from feint.training.checkpoint import SaveEpoch
from feint.training.config import TrainConfig
from feint.training.data import LabelledImages
from feint.training.device import autocast_dtype
from feint.training.init_from_run import init_from_run
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


def train_finetune(
    cfg: TrainConfig,
    spec: BackboneSpec,
    train_set: LabelledImages,
    val_set: LabelledImages | None,
    last: dict[str, Any] | None,
    save_epoch: SaveEpoch,
) -> LoopState:
    """Fine-tune `spec`'s pretrained backbone with a new head on `train_set` (continuing from `last`)."""
    return finetune_model(cfg, spec, train_set, val_set, last, save_epoch)[1]


def finetune_model(
    cfg: TrainConfig,
    spec: BackboneSpec,
    train_set: LabelledImages,
    val_set: LabelledImages | None,
    last: dict[str, Any] | None,
    save_epoch: SaveEpoch,
    start: dict[str, Any] | None = None,
) -> tuple[Classifier, LoopState]:
    """`train_finetune`, also returning the network as the last epoch left it. `start`: weights
    {"backbone": ..., "head": ...} to begin from instead of the pretrained backbone and a new head (the
    second stage of a study's renders-then-photos recipe, feint/studies/finetuned.py). On CUDA the
    forward passes run under torch.autocast (`autocast_dtype`); elsewhere in float32."""
    device = torch.device(cfg.device)
    amp = autocast_dtype(cfg.device)
    images = image_rows(train_set.paths, cfg.size, cfg.cache, train_set.sizes, progress=cfg.progress)
    validate = (
        _validator(
            image_rows(val_set.paths, cfg.size, cfg.cache, val_set.sizes, progress=cfg.progress),
            val_set,
            len(train_set.classes),
            device,
            amp,
        )
        if val_set is not None
        else None
    )
    # --- model ----------------------------------------------------------------------------------------
    torch.manual_seed(cfg.seed)
    backbone = create_backbone(spec, pretrained=start is None)
    width = feature_width(backbone)
    model = Classifier(
        backbone, make_head(width, len(train_set.classes), cfg.hidden, cfg.dropout), spec.mean, spec.std
    )
    if start is not None:
        model.backbone.load_state_dict(start["backbone"])
        model.head.load_state_dict(start["head"])
    elif cfg.init and last is None:
        init_from_run(model.head, model.backbone, cfg.init, train_set.classes, spec, cfg.hidden)
    # NHWC: about 1.6x faster convolutions on CPU (torch's `to` takes device and layout in one call, but its
    # type stubs only one of them: two calls, the same result).
    model.to(device).to(memory_format=torch.channels_last)
    # --- optimiser and schedule -----------------------------------------------------------------------
    loop_cfg = LoopConfig(
        cfg.epochs,
        cfg.peak_lr,
        cfg.weight_decay,
        cfg.batch,
        cfg.warmup_epochs,
        cfg.seed,
        cfg.patience,
        cfg.label_smoothing,
    )
    optimizer = make_optimizer(
        [
            {"params": list(model.backbone.parameters()), "lr": cfg.peak_lr},
            {"params": list(model.head.parameters()), "lr": cfg.peak_lr * cfg.head_lr_mult},
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
            if device.type == "cuda":  # augmented where it trains: one CPU thread would hold a GPU back
                x = x.to(device, non_blocking=True)
            x = torch.stack([augment(img) for img in x])
        x = x.to(device).contiguous(memory_format=torch.channels_last)
        return x, torch.from_numpy(train_set.labels[index]).to(device)

    def on_epoch(loop_state: LoopState, improved: bool) -> None:
        cpu = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        weights = {
            "backbone": {k[len("backbone.") :]: v for k, v in cpu.items() if k.startswith("backbone.")},
            "head": {k[len("head.") :]: v for k, v in cpu.items() if k.startswith("head.")},
            "width": width,
        }
        save_epoch(
            weights,
            loop_state.to_dict(),
            improved,
            {"optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()},
        )

    # --- loop -----------------------------------------------------------------------------------------
    state = fit(
        model,
        optimizer,
        batch_of,
        sample_weights(train_set.labels, train_set.sources, cfg.mix),
        loop_cfg,
        validate,
        state,
        scheduler,
        on_epoch,
        progress=cfg.progress,
        amp=amp,
    )
    return model, state


def logits_of(net: torch.nn.Module, images: Rows, device: torch.device, amp: Any = None) -> torch.Tensor:
    """A network's float32 logits (on the CPU) for cached images, 64 at a time; under torch.autocast in
    `amp` (CUDA only) where given."""
    logits = []
    reduced = torch.autocast("cuda", amp) if amp is not None else contextlib.nullcontext()
    with torch.inference_mode(), reduced:
        for start in range(0, len(images), 64):
            idx = range(start, min(start + 64, len(images)))
            x = torch.from_numpy(np.stack([images[i] for i in idx])).permute(0, 3, 1, 2)
            logits.append(net(x.to(device).contiguous(memory_format=torch.channels_last)).float().cpu())
    return torch.cat(logits)


def _validator(
    val_images: Rows, val_set: LabelledImages, n_classes: int, device: torch.device, amp: Any = None
) -> Callable[[torch.nn.Module], dict[str, float]]:
    """Scores a network on the validation images (loss, accuracy, balanced accuracy), 64 at a time."""

    def validate(net: torch.nn.Module) -> dict[str, float]:
        return score(logits_of(net, val_images, device, amp), torch.from_numpy(val_set.labels), n_classes)

    return validate
