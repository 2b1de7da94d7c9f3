"""`feint detect train --init RUN`: a detector starts from another run's weights.

The detection form of the seed's fine-tuning (renders first, then photos): a detector trained on renders
goes on training on a few real photos, with everything it learnt (backbone, pyramid, proposals, box head)
as its start instead of ImageNet's backbone and random heads. The new run keeps the other run's backbone,
pyramid and anchors (scaled to its own input size), since its weights only mean something with them.
Classes are matched by name: a class the other run had keeps its rows of the class layer and box
regressor, a new class starts from random rows, as in the classifier's `--init`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from feint.detection.anchors import Anchors, default_anchors
from feint.detection.folder import load_checkpoint
from feint.errors import FeintError

if TYPE_CHECKING:
    from torch import nn

    from feint.detection.types import DetectConfig

CLASS_LAYER = "roi_heads.box_predictor.cls_score."  # rows: background, then the classes
BOX_LAYER = "roi_heads.box_predictor.bbox_pred."  # four rows per class, background first


def init_checkpoint(cfg: DetectConfig) -> dict[str, Any]:
    """The best.pt of `cfg.init`, checked against the run asked for (one line for each mismatch)."""
    init = Path(str(cfg.init))
    if not (init / "config.json").is_file():
        raise FeintError(f"--init {init}: not a `feint detect train` run (no config.json)")
    ckpt = load_checkpoint(init / "best.pt")
    name = ckpt["backbone"].get("name")
    if name != cfg.backbone:
        raise FeintError(f"--init {init}: its backbone is {name}; give --backbone {name}")
    stride = int(ckpt.get("finest_stride", 16))  # runs before the stride-8 level: 16
    if stride != cfg.finest_stride:
        raise FeintError(
            f"--init {init}: its pyramid starts at stride {stride}; give --finest-stride {stride}"
        )
    if cfg.anchors != "fixed":
        raise FeintError(f"--init {init}: the anchors come from that run; leave out --anchors {cfg.anchors}")
    return ckpt


def init_anchors(ckpt: dict[str, Any], size: int) -> Anchors:
    """The other run's anchors in pixels of this run's input (they scale with the image)."""
    if "anchors" not in ckpt:  # runs before anchors were stored: the default of their size
        return default_anchors(size, int(ckpt.get("finest_stride", 16)))
    theirs = Anchors.from_record(ckpt["anchors"])
    scale = size / int(ckpt["size"])
    return Anchors(tuple(tuple(round(s * scale, 1) for s in level) for level in theirs.sizes), theirs.ratios)


def load_init(model: nn.Module, ckpt: dict[str, Any], classes: list[str]) -> str:
    """Copy the other run's weights into `model` (built for `classes`); returns what was loaded, in words."""
    own = model.state_dict()
    theirs_classes = list(ckpt["classes"])
    shared = [c for c in classes if c in theirs_classes]
    for key, value in ckpt["state"].items():
        if key not in own:
            continue
        if key.startswith((CLASS_LAYER, BOX_LAYER)):
            rows = 1 if key.startswith(CLASS_LAYER) else 4
            target = own[key]
            target[:rows] = value[:rows]  # background
            for c in shared:
                mine, other = 1 + classes.index(c), 1 + theirs_classes.index(c)
                target[mine * rows : (mine + 1) * rows] = value[other * rows : (other + 1) * rows]
        elif own[key].shape == value.shape:
            own[key] = value
        else:
            raise FeintError(f"--init: the weights {key} do not fit this detector ({tuple(value.shape)})")
    model.load_state_dict(own)
    return f"backbone, pyramid, proposals and box head; class rows of {len(shared)}/{len(classes)} classes"
