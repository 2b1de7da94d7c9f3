"""A trained detection run, loaded for inference: boxes, scores and classes for image files.

    run = load_detector("runs/det-a")
    found = run.detect(paths, conf=0.25)   # one `Detections` per image, boxes in the image's own pixels

A run trained by feint (torchvision) stores its weights in best.pt/last.pt; an Ultralytics run (optional
extra) keeps Ultralytics' own weights and is detected by its config.json. Training validates with
`detect_images` too, so the numbers of an epoch and of `feint detect eval` come from the same code.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feint.detection.anchors import Anchors
from feint.detection.data import BoxedImages, DetectionSet, batches, loader
from feint.detection.folder import load_checkpoint
from feint.detection.models import build_detector
from feint.detection.types import Detections, Sizes
from feint.detection.yolo import is_yolo_model, load_yolo_model, yolo_detect
from feint.errors import FeintError
from feint.training.backbones import spec_from_record


def detect_images(
    model: Any,
    paths: Sequence[Path],
    size: int,
    sizes: Sizes | None = None,
    batch: int = 4,
    workers: int = 0,
    device: str = "cpu",
    progress: bool = False,
) -> list[Detections]:
    """A torchvision detector (eval mode) over image files, decoded and resized by the training loader."""
    import torch
    from tqdm import tqdm

    empty = [np.zeros((0, 4))] * len(paths)
    images = BoxedImages(list(paths), empty, [np.zeros(0, np.int64)] * len(paths), [], list(sizes or []))
    found: list[Detections] = []
    model.eval()
    with torch.inference_mode():
        batched = loader(DetectionSet(images, size), batch, workers)
        for x, targets in tqdm(
            batches(batched),
            total=len(batched),
            disable=not progress,
            leave=False,
            unit="batch",
            desc="detect",
        ):
            out = model([img.to(device).float().div_(255) for img in x])
            for o, t in zip(out, targets, strict=True):
                sx, sy = t["scale"].tolist()
                boxes = o["boxes"].double().cpu().numpy() / np.array([sx, sy, sx, sy])
                found.append(
                    Detections(
                        boxes,
                        o["scores"].double().cpu().numpy(),
                        o["labels"].cpu().numpy().astype(np.int64) - 1,
                    )
                )
    return found


@dataclass
class DetectorRun:
    """A run's classes, input size and model; `detect` gives `Detections` per image."""

    path: Path
    classes: list[str]
    size: int
    model: Any
    backend: str = "torchvision"

    def detect(
        self,
        paths: Sequence[Path],
        sizes: Sizes | None = None,
        conf: float = 0.0,
        batch: int = 4,
        workers: int = 0,
        device: str = "cpu",
        progress: bool = False,
    ) -> list[Detections]:
        if self.backend == "yolo":
            return yolo_detect(self.model, paths, self.size, conf, device)
        self.model.to(device)
        found = detect_images(self.model, paths, self.size, sizes, batch, workers, device, progress)
        return [d.above(conf) for d in found]


def load_detector(path: str | Path, which: str = "best") -> DetectorRun:
    """The run's best (or last) weights; a clear error for a missing or unfinished run."""
    path = Path(path)
    if not path.is_dir():
        raise FeintError(f"{path}: no such run folder")
    if not (path / "config.json").is_file():
        raise FeintError(f"{path}: not a `feint detect train` run (no config.json)")
    try:
        config = json.loads((path / "config.json").read_text())
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise FeintError(f"{path / 'config.json'}: not a feint run configuration (damaged JSON)")
    if is_yolo_model(str(config.get("model", ""))):
        weights, names = load_yolo_model(path, which)
        return DetectorRun(path, names, int(config["size"]), weights, backend="yolo")
    file = path / f"{which}.pt"
    if not file.is_file():
        raise FeintError(
            f"{path}: no {which}.pt yet: the run has not finished an epoch (continue it with "
            "`feint detect train ... --resume`)"
        )
    ckpt = load_checkpoint(file)
    classes = list(ckpt["classes"])
    anchors = Anchors.from_record(ckpt["anchors"]) if "anchors" in ckpt else None  # older runs: default
    model = build_detector(
        spec_from_record(ckpt["backbone"]),
        len(classes),
        int(ckpt["size"]),
        ckpt["model"],
        pretrained=False,
        anchors=anchors,
        finest_stride=int(ckpt.get("finest_stride", 16)),  # older runs: 16
    )
    model.load_state_dict(ckpt["state"])
    return DetectorRun(path, classes, int(ckpt["size"]), model.eval())
