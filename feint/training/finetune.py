"""The fine-tune mode: backbone and head train together on augmented images from the image cache.

Top to bottom: images, model, optimiser and schedule, resume, batches, validation, loop. The backbone
learns at `lr`, the new head `head_lr_mult` times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from feint.training.backbones import BackboneSpec, create_backbone, feature_width
from feint.training.cache import Rows, image_rows
from feint.training.checkpoint import SaveEpoch
from feint.training.config import TrainConfig
from feint.training.data import LabelledImages
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
    device = torch.device(cfg.device)
    images = image_rows(train_set.paths, cfg.size, cfg.cache, train_set.sizes, progress=cfg.progress)
    validate = (
        _validator(
            image_rows(val_set.paths, cfg.size, cfg.cache, val_set.sizes, progress=cfg.progress),
            val_set,
            len(train_set.classes),
            device,
        )
        if val_set is not None
        else None
    )
    # --- model ----------------------------------------------------------------------------------------
    torch.manual_seed(cfg.seed)
    backbone = create_backbone(spec, pretrained=True)
    width = feature_width(backbone)
    model = Classifier(
        backbone, make_head(width, len(train_set.classes), cfg.hidden, cfg.dropout), spec.mean, spec.std
    )
    if cfg.init and last is None:
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
    return fit(
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
    )


def _validator(
    val_images: Rows, val_set: LabelledImages, n_classes: int, device: torch.device
) -> Callable[[torch.nn.Module], dict[str, float]]:
    """Scores a network on the validation images (loss, accuracy, balanced accuracy), 64 at a time."""

    def validate(net: torch.nn.Module) -> dict[str, float]:
        logits = []
        with torch.inference_mode():
            for start in range(0, len(val_set), 64):
                idx = range(start, min(start + 64, len(val_set)))
                x = torch.from_numpy(np.stack([val_images[i] for i in idx])).permute(0, 3, 1, 2)
                logits.append(net(x.to(device).contiguous(memory_format=torch.channels_last)).float().cpu())
        return score(torch.cat(logits), torch.from_numpy(val_set.labels), n_classes)

    return validate
