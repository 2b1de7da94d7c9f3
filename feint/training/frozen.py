"""The frozen mode: the backbone's features once (from the feature cache), then only the head trains on them.

Seconds per run once the features exist. Mirrored images' features stand in for fine-tuning's flip
augmentation; the head's loop is `train_head`, the one studies call.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from feint.training.backbones import BackboneSpec
from feint.training.cache import feature_rows
from feint.training.checkpoint import SaveEpoch
from feint.training.config import TrainConfig
from feint.training.data import LabelledImages
from feint.training.head import HeadConfig, train_head
from feint.training.init_from_run import init_from_run
from feint.training.loop import LoopState
from feint.training.model import feature_norm, make_head


def train_frozen(
    cfg: TrainConfig,
    spec: BackboneSpec,
    train_set: LabelledImages,
    val_set: LabelledImages | None,
    last: dict[str, Any] | None,
    save_epoch: SaveEpoch,
) -> LoopState:
    """Train a head on `spec`'s cached features of `train_set` (continuing from `last`, a last.pt)."""

    def feats(images: LabelledImages, mirrored: bool = False) -> np.ndarray:
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
        cfg.peak_lr,
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
        torch.manual_seed(cfg.seed)
        head = make_head(width, len(train_set.classes), cfg.hidden, cfg.dropout)
        feature_norm(head).set(torch.as_tensor(x_train))
        init_from_run(head, None, cfg.init, train_set.classes, spec, cfg.hidden)

    def on_epoch(loop_state: LoopState, improved: bool, extra: dict[str, Any]) -> None:
        weights = {"head": extra["head"], "backbone": None, "width": width}
        save_epoch(weights, loop_state.to_dict(), improved, {"resume": extra})

    resume = last["resume"] if last is not None else None
    result = train_head(
        x_train, y_train, len(train_set.classes), head_cfg, val, sources, cfg.mix, head, resume, on_epoch
    )
    return result.state
