"""Anchors fitted to the training boxes: tall and lying bottles get anchors of their shape, and a run is
rebuilt with the anchors it was trained with."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from detection_helpers import feint
from torchvision.ops import box_iou

from feint.detection.anchors import Anchors, default_anchors, fit_anchors
from feint.detection.folder import load_checkpoint
from feint.detection.runs import load_detector


def bottle_boxes(n: int, seed: int = 0) -> list[np.ndarray]:
    """Boxes as bottles at 320x240: standing ones 3-4 times taller than wide, lying ones 2-4 times wider."""
    rng = np.random.default_rng(seed)
    boxes = []
    for k in range(n):
        side = rng.uniform(20, 110)
        aspect = rng.uniform(3, 4) if k % 2 else 1 / rng.uniform(2, 4)  # height / width
        w, h = side / np.sqrt(aspect), side * np.sqrt(aspect)
        x, y = rng.uniform(0, 320 - w), rng.uniform(0, 240 - h)
        boxes.append(np.array([[x, y, x + w, y + h]]))
    return boxes


def best_anchor_iou(anchors: Anchors, boxes: np.ndarray) -> np.ndarray:
    """Each box's IoU with the anchor (of any side and ratio) that fits it best, both centred alike."""
    shapes = [
        (s / np.sqrt(r), s * np.sqrt(r)) for level in anchors.sizes for s in level for r in anchors.ratios
    ]
    a = torch.tensor([[-w / 2, -h / 2, w / 2, h / 2] for w, h in shapes])
    wh = boxes[:, 2:] - boxes[:, :2]
    b = torch.tensor(np.concatenate([-wh / 2, wh / 2], axis=1))
    return box_iou(b, a).max(dim=1).values.numpy()


def test_fitted_anchors_cover_tall_and_lying_boxes_that_the_default_ones_miss() -> None:
    train, held = bottle_boxes(400, seed=0), np.concatenate(bottle_boxes(200, seed=1))
    fitted = fit_anchors(train, [(320, 240)] * len(train), size=320)
    assert min(fitted.ratios) < 0.5 and max(fitted.ratios) > 2.5 and len(fitted.ratios) == 5, fitted.ratios
    # The proposal network counts an anchor with IoU >= 0.7 as a positive: held-out boxes with such an
    # anchor, fitted against the usual ratios 0.5, 1, 2.
    good_fit = (best_anchor_iou(fitted, held) >= 0.7).mean()
    good_default = (best_anchor_iou(default_anchors(320), held) >= 0.7).mean()
    assert good_fit > 0.85 and good_default < 0.3, (good_fit, good_default)


def test_anchors_follow_the_model_input_size() -> None:
    """Boxes of 640x480 images, trained at 320: the anchors are the boxes' sides halved."""
    boxes = bottle_boxes(200)
    at_320 = fit_anchors(boxes, [(320, 240)] * 200, size=320)
    at_640 = fit_anchors([b * 2 for b in boxes], [(640, 480)] * 200, size=320)
    assert at_640 == at_320
    assert fit_anchors([], [], size=320) == default_anchors(320)  # no boxes: nothing to fit


def train_one_epoch(shapes: Path, out: Path, *options: str) -> None:
    """A 96 px detector trained one epoch on the shapes with `options`; it must succeed."""
    code, _, err = feint(
        "detect", "train", shapes, "-o", out, "--size", "96", "--epochs", "1", "--batch", "4", *options, "-q"
    )  # fmt: skip
    assert code == 0, err


def test_a_run_keeps_its_fitted_anchors(shapes: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    train_one_epoch(shapes, out, "--anchors", "fit")
    recorded = json.loads((out / "run.json").read_text())["anchors"]
    assert load_checkpoint(out / "best.pt")["anchors"] == recorded
    model = load_detector(out).model
    assert model.rpn.anchor_generator.aspect_ratios[0] == tuple(recorded["ratios"])
    assert [list(s) for s in model.rpn.anchor_generator.sizes] == recorded["sizes"]
    # the shapes are squares and discs: five ratios, none beyond the usual 0.5 to 2
    assert len(recorded["ratios"]) == 5 and (min(recorded["ratios"]), max(recorded["ratios"])) == (0.5, 2.0)


def test_jittered_training_images_depend_on_seed_epoch_and_image_only(shapes: Path) -> None:
    """Zoomed, cropped and recoloured images: the same for the same (seed, epoch, image), so a resumed
    run sees what an uninterrupted one saw; other epochs differ; boxes stay on the image."""
    from feint.datasets import load_dataset
    from feint.detection.data import DetectionSet, from_dataset

    images = from_dataset(load_dataset(shapes))
    a, b = DetectionSet(images, 96, "jitter", seed=1), DetectionSet(images, 96, "jitter", seed=1)
    changed = 0
    for i in range(len(images)):
        a.epoch = b.epoch = 1
        (x, t), (y, u) = a[i], b[i]
        assert torch.equal(x, y) and torch.equal(t["boxes"], u["boxes"])
        assert max(x.shape[1:]) == 96 and len(t["boxes"]) == len(t["labels"]) >= 1
        assert (t["boxes"][:, 2:] <= torch.tensor([x.shape[2], x.shape[1]]) + 1e-3).all()
        b.epoch = 2
        changed += not torch.equal(x, b[i][0])
    assert changed >= len(images) // 2


def test_turned_and_zoomed_boxes_still_hold_their_shapes(shapes: Path) -> None:
    """With quarter turns, zoom and crops the boxes move with the pixels: the middle of every box is the
    bright shape (the background is dark noise); some images come out turned (portrait)."""
    from feint.datasets import load_dataset
    from feint.detection.data import DetectionSet, from_dataset

    images = from_dataset(load_dataset(shapes))
    turned, centres, bright = 0, 0, 0
    for epoch in range(1, 5):
        data = DetectionSet(images, 96, "rotate", seed=0)
        data.epoch = epoch
        for i in range(len(images)):
            x, t = data[i]
            turned += x.shape[1] > x.shape[2]
            for x0, y0, x1, y1 in t["boxes"].tolist():
                centres += 1
                bright += int(x[:, round((y0 + y1) / 2), round((x0 + x1) / 2)].max()) > 100
    assert turned >= 8 and bright >= 0.95 * centres, (turned, bright, centres)


def test_a_stride_8_level_gives_small_objects_denser_anchors(shapes: Path, tmp_path: Path) -> None:
    """`--finest-stride 8`: a fourth pyramid level fed by the backbone's stride-8 features, anchors from
    size/40 (8 px at 320) on it, RoI pooling over three maps that sends boxes under 112 px to the stride-8
    one (torchvision's level mapping puts 224 px at stride 16); the run is rebuilt with that pyramid."""
    anchors = default_anchors(320, finest_stride=8)
    assert len(anchors.sizes) == 4 and anchors.sizes[0][0] == 8.0 and anchors.sizes[-1][-1] == 320.0
    out = tmp_path / "run"
    train_one_epoch(shapes, out, "--finest-stride", "8")
    assert json.loads((out / "run.json").read_text())["finest_stride"] == 8
    model = load_detector(out).model
    assert len(model.rpn.anchor_generator.sizes) == 4
    pool = model.roi_heads.box_roi_pool
    assert pool.scales == [1 / 8, 1 / 16, 1 / 32]
    small, large = torch.tensor([[0.0, 0.0, 30.0, 30.0]]), torch.tensor([[0.0, 0.0, 600.0, 600.0]])
    assert pool.map_levels([small]).item() == 0 and pool.map_levels([large]).item() == 2
    features = model.backbone(torch.zeros(1, 3, 96, 96))
    assert [f.shape[-1] for f in features.values()] == [12, 6, 3, 2]  # strides 8, 16, 32, 64
    code, _, err = feint("detect", "train", shapes, "-o", tmp_path / "bad", "--finest-stride", "4", "-q")
    assert code == 2 and "--finest-stride" in err and "Traceback" not in err
