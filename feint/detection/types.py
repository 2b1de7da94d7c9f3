"""The values that cross detection's stages: a run's configuration and one image's detections.

Plain data with no behaviour beyond checking itself, and no import of another detection module: data,
models, training, evaluation, prediction and the YOLO backend all depend on this module, never the other
way round.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from feint.errors import FeintError

CHECKPOINT_FORMAT = "feint-detector/1"  # best.pt and last.pt of a torchvision run
OPTIMIZERS = ("sgd", "adamw")
# Training images flipped; or also zoomed, cropped and recoloured; or also turned a quarter (not for ships)
AUGMENTS = ("flip", "jitter", "rotate")
# Anchor boxes: sides size/40..size at ratios 0.5, 1, 2 (fixed), or fitted to the training boxes (fit); fixed
# learnt faster in the measured budgets (docs/detection.md, "Choosing the recipe").
ANCHORS = ("fixed", "fit")
# The finest stride of the feature pyramid: 8 (found more on bottles and real ships, docs/detection.md), or
# 16 (a sixth faster; runs before the choice); feint/detection/models.py.
FINEST_STRIDES = (8, 16)
DEFAULT_LR = {"sgd": 0.01, "adamw": 1e-4}

# (width, height) of each image as its labels state it; None where they do not say.
Sizes = Sequence[tuple[int | None, int | None]]


@dataclass
class DetectConfig:
    """Everything a detection run is asked to do; config.json holds it (lr resolved)."""

    data: str
    out: str
    model: str = "fasterrcnn"  # or a YOLO model (yolo11n.yaml, a .pt file): the Ultralytics backend
    backbone: str = "mobilenet_v2"
    anchors: str = "fixed"
    finest_stride: int = 8
    init: str | None = None  # a torchvision run to start from (feint/detection/init_from_run.py)
    augment: str = "flip"  # or "jitter", "rotate" (feint/detection/data.py)
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
    progress: bool = True

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise FeintError(f"--optimizer {self.optimizer!r}: expected one of {', '.join(OPTIMIZERS)}")
        if self.augment not in AUGMENTS:
            raise FeintError(f"--augment {self.augment!r}: expected one of {', '.join(AUGMENTS)}")
        if self.anchors not in ANCHORS:
            raise FeintError(f"--anchors {self.anchors!r}: expected one of {', '.join(ANCHORS)}")
        if self.finest_stride not in FINEST_STRIDES:
            raise FeintError(
                f"--finest-stride {self.finest_stride}: expected one of {', '.join(map(str, FINEST_STRIDES))}"
            )
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]

    @property
    def peak_lr(self) -> float:
        """The learning rate the schedule peaks at: `lr`, or the optimiser's default when none is given."""
        return DEFAULT_LR[self.optimizer] if self.lr is None else self.lr


@dataclass
class Detections:
    """One image's detections: boxes (N, 4) xyxy in the original image's pixels, scores, class indices."""

    boxes: np.ndarray
    scores: np.ndarray
    labels: np.ndarray

    def above(self, conf: float) -> Detections:
        keep = self.scores >= conf
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep])
