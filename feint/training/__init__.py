"""Train image classifiers on real, synthetic and mixed data with ImageNet-pretrained backbones, offline.

    from feint.training import TrainConfig, train, train_head, create_backbone, list_backbones

- backbones.py: registry of backbones with local ImageNet weights (`register_backbone`, `create_backbone`).
- data.py: `LabelledImages`, the plain arrays training sees, built from `feint.datasets`.
- cache.py: decoded images and backbone features, computed once, memory-mapped, reused across runs.
- loop.py: the shared loop (class-balanced draws, AdamW, warm-up + cosine, best epoch, resume).
- head.py: `train_head(features, labels, ...)`, the fast library call for studies.
- run.py: `train(TrainConfig)`, one run folder from data to checkpoints.
- device.py: `resolve_device(name)`, a --device value checked against this machine (every command).
"""

from feint.training.backbones import create_backbone, list_backbones, register_backbone
from feint.training.head import HeadConfig, HeadResult, train_head
from feint.training.run import TrainConfig, train

__all__ = [
    "HeadConfig",
    "HeadResult",
    "TrainConfig",
    "create_backbone",
    "list_backbones",
    "register_backbone",
    "train",
    "train_head",
]
