"""The classifier: a backbone (pooled features) and a head (linear or small MLP) on standardised features."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from feint.training.transforms import normalise


class FeatureNorm(nn.Module):
    """Fixed per-feature standardisation (from the training features; identity until set)."""

    mean: torch.Tensor  # buffers, saved with the head
    std: torch.Tensor

    def __init__(self, width: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(width))
        self.register_buffer("std", torch.ones(width))

    def set(self, features: torch.Tensor) -> None:
        """Mean and spread of the training features; a feature (nearly) constant in a small training set
        gets a floor on its spread, so that a test image where it does vary cannot blow up the logits."""
        std = features.std(0) if len(features) > 1 else torch.ones(features.shape[1])
        self.mean.copy_(features.mean(0))
        self.std.copy_(std.clamp_min(0.1 * float(std.mean()) + 1e-6))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def make_head(width: int, n_classes: int, hidden: int = 0, dropout: float = 0.0) -> nn.Sequential:
    """Standardise, then Linear (hidden=0) or Linear-GELU-Linear; dropout before each Linear."""
    layers: list[nn.Module] = [FeatureNorm(width), nn.Dropout(dropout)]
    if hidden:
        layers += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes)]
    else:
        layers += [nn.Linear(width, n_classes)]
    return nn.Sequential(*layers)


def feature_norm(head: nn.Module) -> FeatureNorm:
    """The standardisation layer `make_head` puts first, to be `set` on the training features."""
    norm = head[0] if isinstance(head, nn.Sequential) else None
    if not isinstance(norm, FeatureNorm):
        raise TypeError(f"{type(head).__name__}: not a head made by make_head (no FeatureNorm first)")
    return norm


class Classifier(nn.Module):
    """uint8 images (N, 3, H, W) -> class logits; normalises inputs the way the backbone's weights expect."""

    def __init__(
        self, backbone: nn.Module, head: nn.Module, mean: Sequence[float], std: Sequence[float]
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.head = head
        self.mean = tuple(mean)
        self.std = tuple(std)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(normalise(x, self.mean, self.std))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))
