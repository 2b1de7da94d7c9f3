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
    create_backbone,
    get_spec,
    list_backbones,
    match_state_dict,
    register_backbone,
)
from feint.training.transforms import normalise

# Grace Hopper in uniform, shipped with matplotlib; torchvision's tests use the same photo.
HOPPER = Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"
MILITARY_UNIFORM = 652  # ImageNet class index


def imagenet_top(name: str, k: int = 1) -> list[int]:
    net = create_backbone(name, imagenet_head=True).eval()
    spec = get_spec(name)
    with Image.open(HOPPER) as img:
        rgb = np.asarray(img.convert("RGB").resize((224, 224), Image.BICUBIC))
    x = normalise(torch.from_numpy(rgb.copy()).permute(2, 0, 1)[None], spec.mean, spec.std)
    with torch.inference_mode():
        return net(x)[0].topk(k).indices.tolist()


def test_both_backbones_are_registered() -> None:
    assert {"efficientnet_lite0", "mobilenet_v2"} <= set(list_backbones())
    assert list_backbones("mobile*") == ["mobilenet_v2"]


@pytest.mark.parametrize("name", ["efficientnet_lite0", "mobilenet_v2"])
def test_loaded_weights_give_the_right_imagenet_class(name: str) -> None:
    assert imagenet_top(name) == [MILITARY_UNIFORM]


@pytest.mark.parametrize("name, width", [("efficientnet_lite0", 1280), ("mobilenet_v2", 1280)])
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
    register_backbone("my_mobilenet", "torchvision:mobilenet_v2", weights, replace=True)
    assert "my_mobilenet" in list_backbones()
    assert imagenet_top("my_mobilenet") == [MILITARY_UNIFORM]


def test_unknown_backbone_and_missing_weights_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FeintError, match="unknown backbone 'nope'.*efficientnet_lite0"):
        create_backbone("nope")
    register_backbone("lost", "torchvision:mobilenet_v2", tmp_path / "gone.pth", replace=True)
    with pytest.raises(FeintError, match="gone.pth not found"):
        create_backbone("lost")
    with pytest.raises(FeintError, match="timm:<model>"):
        register_backbone("bad", "keras:resnet", None)


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
