"""Augmentations (torchvision transforms v2) on cached uint8 images, and the normalisation a backbone expects.

Training: random resized crop (keeping at least half the image: the ship must stay recognisable), flip,
mild colour jitter. Evaluation: the cached image as is (it is already the training size).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch


def train_augment(size: int):  # noqa: ANN201 - a torchvision v2 Compose
    from torchvision.transforms import v2

    return v2.Compose(
        [
            v2.RandomResizedCrop(size, scale=(0.5, 1.0), ratio=(0.75, 1.333), antialias=True),
            v2.RandomHorizontalFlip(),
            v2.ColorJitter(brightness=0.2, contrast=0.2, saturation=0.2),
        ]
    )


def normalise(x: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> float, scaled to [0, 1] then standardised per channel."""
    mean_t = torch.tensor(mean, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=torch.float32, device=x.device).view(1, 3, 1, 1)
    return (x.float() / 255.0 - mean_t) / std_t
