"""The detector: torchvision's Faster R-CNN on one of feint's offline ImageNet backbones.

    from feint.detection.models import build_detector
    model = build_detector(get_backbone_spec("mobilenet_v2"), num_classes=2, size=320)

Only the backbone is pretrained (feint's backbone registry: a local weight file, nothing downloaded); the
feature pyramid, region proposal network and box head start random, so training is transfer learning from
ImageNet features. The backbone's stride-8, 16 and 32 feature maps feed a small FPN (plus its max-pooled
stride-64 level): one stride-32 map alone is 10x10 at 320 px, too coarse for small objects, and the
stride-8 map (`finest_stride=8`, the default) gives objects a few tens of pixels high, a bottle at the
back of a shelf or a lying one, anchors and RoI features of their size; it found more bottles and more
real ships than a pyramid from stride 16 (`finest_stride=16`, runs trained before it), at a sixth more
training time (docs/detection.md). Batch norms are frozen (detection batches of 2-8 images give useless
batch statistics) and the layers up to stride 8 keep their ImageNet weights (they are generic edges and
textures, and not back-propagating through the high-resolution layers makes a CPU step much cheaper).
Anchors are fitted to the training boxes (feint/detection/anchors.py) and given here; without them,
sides from size/40 (size/20 from stride 16) to size and aspect ratios 0.5, 1 and 2.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import TYPE_CHECKING

import torch
from torch import nn

from feint.detection.anchors import PYRAMIDS, Anchors, default_anchors
from feint.errors import FeintError

if TYPE_CHECKING:
    from torchvision.models.detection import FasterRCNN
    from torchvision.ops import MultiScaleRoIAlign

    from feint.training.backbones import BackboneSpec

MODELS = ("fasterrcnn",)
FPN_CHANNELS = 128
BOX_HEAD_WIDTH = 512
# Where the stride 8, 16 and 32 features of torchvision backbones are (timm models say so themselves).
TORCHVISION_STAGES = {"mobilenet_v2": {8: "features.6", 16: "features.13", 32: "features.18"}}


def _stages(model: nn.Module, spec: BackboneSpec) -> dict[int, str]:
    """Module names whose outputs are the stride 8, 16 and 32 features."""
    info = getattr(model, "feature_info", None)
    if spec.arch.startswith("timm:") and isinstance(info, list):
        found = {int(f["reduction"]): str(f["module"]) for f in info}
    else:
        found = TORCHVISION_STAGES.get(spec.arch.split(":", 1)[1], {})
    if not all(k in found for k in (8, 16, 32)):
        raise FeintError(
            f"backbone {spec.name!r} ({spec.arch}): feint does not know where its stride-16 and "
            f"stride-32 features are; detection works with timm backbones and torchvision "
            f"{', '.join(TORCHVISION_STAGES)}"
        )
    return {k: found[k] for k in (8, 16, 32)}


def _freeze_batchnorm(model: nn.Module) -> nn.Module:
    from timm.layers import freeze_batch_norm_2d

    return freeze_batch_norm_2d(model)  # also timm's BatchNormAct2d, keeping its activation


class PyramidBackbone(nn.Module):
    """Backbone features at strides 16 and 32 (or 8 to 32) -> FPN (`out_channels` wide) with an extra
    stride-64 level."""

    def __init__(self, body: nn.Module, in_channels: list[int], out_channels: int) -> None:
        from torchvision.ops import FeaturePyramidNetwork
        from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

        super().__init__()
        self.body = body
        self.fpn = FeaturePyramidNetwork(in_channels, out_channels, extra_blocks=LastLevelMaxPool())
        self.out_channels = out_channels

    def forward(self, x: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
        return self.fpn(self.body(x))


def _pyramid(spec: BackboneSpec, pretrained: bool, strides: tuple[int, ...]) -> PyramidBackbone:
    from feint.training.backbones import create_backbone

    net = _freeze_batchnorm(create_backbone(spec, pretrained=pretrained))
    stages = _stages(net, spec)
    nodes = {stages[stride]: str(i) for i, stride in enumerate(strides)}
    if spec.arch.startswith("timm:"):
        from timm.models._features_fx import create_feature_extractor as timm_features

        body = timm_features(net, nodes)
    else:
        from torchvision.models.feature_extraction import create_feature_extractor

        body = create_feature_extractor(net, nodes)
    # Freeze everything up to and including the stride-8 stage (parameters come in forward order).
    params = list(body.named_parameters())
    last_frozen = max(i for i, (name, _) in enumerate(params) if name.startswith(stages[8] + "."))
    for i, (_, param) in enumerate(params):
        param.requires_grad_(i > last_frozen)
    with torch.no_grad():
        widths = [int(v.shape[1]) for v in body.eval()(torch.zeros(1, 3, 64, 64)).values()]
    return PyramidBackbone(body, widths, FPN_CHANNELS)


def _pin_scales(pool: MultiScaleRoIAlign, strides: tuple[int, ...]) -> None:
    """Give the box head's RoI pooling the strides of its feature maps (16 and 32, or 8 to 32) instead of
    letting it guess them. torchvision guesses each level's scale from the first batch it sees (feature
    height over image height, rounded to a power of two) and keeps it: an image much shorter than its padded
    height gets a wrong guess (a 96 px detector's first image a 96x67 photo: 1/8 for the stride-16 level),
    so every later image's boxes, and an exported graph, would depend on which image came first."""
    from torchvision.ops.poolers import initLevelMapper

    levels = [round(math.log2(s)) for s in strides]
    pool.scales = [1.0 / s for s in strides]
    pool.map_levels = initLevelMapper(
        levels[0], levels[-1], canonical_scale=pool.canonical_scale, canonical_level=pool.canonical_level
    )


def build_detector(
    spec: BackboneSpec,
    num_classes: int,
    size: int,
    model: str = "fasterrcnn",
    pretrained: bool = True,
    anchors: Anchors | None = None,
    finest_stride: int = 8,
) -> FasterRCNN:
    """A detector for `num_classes` object classes (labels 1..num_classes; 0 is background), inputs
    resized so that their longer side is `size`. pretrained=False: random weights (a run's follow).
    `finest_stride`: where the pyramid starts, 8 or 16 (the module's docstring)."""
    from torchvision.models.detection import FasterRCNN
    from torchvision.models.detection.anchor_utils import AnchorGenerator
    from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
    from torchvision.ops import MultiScaleRoIAlign

    if model not in MODELS:
        raise FeintError(
            f"--model {model!r}: expected one of {', '.join(MODELS)}, or a YOLO model "
            "(yolo11n.yaml, a .pt file) with feint[yolo]"
        )
    if finest_stride not in PYRAMIDS:
        raise FeintError(f"finest stride {finest_stride}: expected one of {', '.join(map(str, PYRAMIDS))}")
    strides = PYRAMIDS[finest_stride][:-1]  # the backbone's; the last level is pooled from its coarsest
    anchors = anchors or default_anchors(size, finest_stride)
    if len(anchors.sizes) != len(PYRAMIDS[finest_stride]):
        raise FeintError(
            f"{len(anchors.sizes)} levels of anchors for a pyramid of {len(PYRAMIDS[finest_stride])} "
            f"levels (finest stride {finest_stride})"
        )
    backbone = _pyramid(spec, pretrained, strides)
    generator = AnchorGenerator(anchors.sizes, (anchors.ratios,) * len(anchors.sizes))
    roi_pool = MultiScaleRoIAlign([str(i) for i in range(len(strides))], output_size=7, sampling_ratio=2)
    _pin_scales(roi_pool, strides)
    head = TwoMLPHead(FPN_CHANNELS * 7 * 7, BOX_HEAD_WIDTH)
    # Fewer proposals than torchvision's defaults (2000/1000, sized for 800-1333 px COCO images): at
    # 320-640 px they cover the image and make the box head ~4x cheaper on a CPU.
    return FasterRCNN(
        backbone,
        min_size=size,
        max_size=size,
        image_mean=list(spec.mean),
        image_std=list(spec.std),
        rpn_anchor_generator=generator,
        box_roi_pool=roi_pool,
        box_head=head,
        box_predictor=FastRCNNPredictor(BOX_HEAD_WIDTH, num_classes + 1),
        rpn_pre_nms_top_n_train=1000,
        rpn_post_nms_top_n_train=500,
        rpn_pre_nms_top_n_test=500,
        rpn_post_nms_top_n_test=300,
        box_batch_size_per_image=128,
    )
