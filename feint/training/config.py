"""What a `feint train` run is asked to do: `TrainConfig`, written to the run folder as config.json."""

from __future__ import annotations

from dataclasses import dataclass, field

from feint.errors import FeintError

MODES = ("finetune", "frozen")
# Fine-tuning keeps to a low rate (higher ones wipe out the pretrained weights); a new head learns faster.
DEFAULT_LR = {"finetune": 1e-4, "frozen": 1e-3}


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
    arch: str | None = None  # with `weights`: a backbone `backbone` of this architecture (timm:/torchvision:)
    weights: str | None = None
    mode: str = "finetune"
    epochs: int = 10
    lr: float | None = None  # default: DEFAULT_LR of the mode
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
            self.lr = DEFAULT_LR[self.mode]

    @property
    def peak_lr(self) -> float:
        """The learning rate in force: `lr`, which `__post_init__` sets to the mode's default if not given."""
        return DEFAULT_LR[self.mode] if self.lr is None else self.lr
