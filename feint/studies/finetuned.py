"""Study runs that fine-tune (`mode: finetune` in a study file): the backbone and a new head train on the
run's images, the photos of its real share and its renders, in the loop of `feint train --mode finetune`
(feint/training/finetune.py: augmented images from the image cache, AdamW, warm-up then cosine, autocast
on CUDA), and the network is scored on the same real test photos a frozen run's head is.

The recipes are the frozen runs' own: "merged" trains on photos and renders together, the renders drawn
at the study's `synthetic_weight` share of each batch; "finetune" trains on the renders first, then goes
on from those weights on the photos at half the rate. A run with `validate` keeps its best epoch on the
real validation photos, any other its last. Every image is decoded once into the image cache (computing
the study's features put them there already), so a run reads rows, never image files.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from feint.studies.data import Part, StudyData
from feint.training.checkpoint import SaveEpoch
from feint.training.data import LabelledImages


class FinetuneRun(Protocol):
    """What a fine-tuning run reads of its `RunConfig` (feint/studies/runs.py), read only."""

    @property
    def mode(self) -> str: ...  # the recipe: "merged" or "finetune" (renders first, then photos)
    @property
    def seed(self) -> int: ...
    @property
    def epochs(self) -> int: ...
    @property
    def lr(self) -> float: ...
    @property
    def hidden(self) -> int: ...
    @property
    def synthetic_weight(self) -> float: ...
    @property
    def validate(self) -> bool: ...
    @property
    def label_smoothing(self) -> float: ...
    @property
    def batch(self) -> int: ...


def finetuned_predictions(
    cfg: FinetuneRun, data: StudyData, real_idx: np.ndarray, syn_idx: np.ndarray
) -> tuple[np.ndarray, int]:
    """Fine-tune on the photos `real_idx` of the training split and the renders `syn_idx` on
    `data.device`; the network's predictions on the test photos and its best epoch (counted from 1)."""
    import torch

    from feint.training.backbones import get_backbone_spec
    from feint.training.cache import image_rows
    from feint.training.config import TrainConfig
    from feint.training.device import autocast_dtype
    from feint.training.finetune import finetune_model, logits_of

    spec = get_backbone_spec(data.backbone)
    photos = _images(data.train, real_idx, "real", data.classes)
    renders = _images(data.synthetic, syn_idx, "synthetic", data.classes)
    val = LabelledImages(data.val.paths, data.val.labels, data.classes) if cfg.validate else None
    settings = TrainConfig(
        data=[],
        out="",
        backbone=data.backbone,
        mode="finetune",
        epochs=cfg.epochs,
        lr=cfg.lr,
        batch=cfg.batch,
        size=data.image_size,
        seed=cfg.seed,
        label_smoothing=cfg.label_smoothing,
        hidden=cfg.hidden,
        device=data.device,
        progress=False,
    )
    best: dict[str, Any] = {}
    if cfg.mode == "finetune" and len(renders) and len(photos):
        first: dict[str, Any] = {}
        finetune_model(settings, spec, renders, None, None, _keeping(first))
        second = replace(settings, lr=cfg.lr / 2)
        model, state = finetune_model(second, spec, photos, val, None, _keeping(best), start=first)
    else:
        both = len(photos) and len(renders)
        if both:
            settings.mix = {"real": 1 - cfg.synthetic_weight, "synthetic": cfg.synthetic_weight}
        images = _joined(photos, renders) if both else (photos if len(photos) else renders)
        model, state = finetune_model(settings, spec, images, val, None, _keeping(best))
    model.backbone.load_state_dict(best["backbone"])  # the best epoch: the last one without validation
    model.head.load_state_dict(best["head"])
    test = image_rows(data.test.paths, data.image_size, settings.cache)
    logits = logits_of(model.eval(), test, torch.device(data.device), autocast_dtype(data.device))
    return logits.argmax(1).numpy(), state.best_epoch


def _images(part: Part | None, index: np.ndarray, source: str, classes: list[str]) -> LabelledImages:
    """The images `index` of `part` as `LabelledImages` of one source (none: an empty set)."""
    if part is None or not len(index):
        return LabelledImages([], np.zeros(0, dtype=np.int64), classes)
    return LabelledImages(
        [part.paths[i] for i in index],
        part.labels[index],
        classes,
        [source] * len(index),
        [part.groups[i] for i in index],
    )


def _joined(first: LabelledImages, second: LabelledImages) -> LabelledImages:
    """Two `LabelledImages` of the same classes as one, `first`'s images first."""
    return LabelledImages(
        first.paths + second.paths,
        np.concatenate([first.labels, second.labels]),
        first.classes,
        first.sources + second.sources,
        first.groups + second.groups,
    )


def _keeping(best: dict[str, Any]) -> SaveEpoch:
    """A `SaveEpoch` that keeps the weights of the best epoch so far in `best` (on the CPU), no files."""

    def save_epoch(
        weights: dict[str, Any], loop: dict[str, Any], improved: bool, extra: dict[str, Any]
    ) -> None:
        if improved:
            best.update(backbone=weights["backbone"], head=weights["head"])

    return save_epoch
