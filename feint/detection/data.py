"""The boundary between datasets and detection: `BoxedImages` (paths, boxes, labels) and the torch side.

Everything upstream (formats, splits, class selection) is `feint.datasets`; detection sees image paths
with their boxes (xyxy pixels of the original image) and box labels indexing `classes`. Images are decoded
and resized in the loader (longer side = the run's size, aspect kept: the detector pads a batch, it never
stretches an object) and boxes scaled with them; training images are flipped left-right half the time
and, with `augment="jitter"`, also zoomed out (objects smaller, on a grey canvas), cropped in (larger)
and their colours changed (torchvision's box-aware v2 transforms); `augment="rotate"` adds quarter turns
(a quarter of the images), for objects that lie in any direction (a standing bottle turned is a lying
one), not for ships, which are never upright. Every random choice comes from (seed,
epoch, image), so a resumed run sees the same images as one that never stopped.

`select_data` picks a run's training and validation datasets and `detection_sets_of` turns them into
`BoxedImages`; both backends (torchvision and YOLO) start from them, so both refuse the same inputs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from feint.detection.types import AUGMENTS, DetectConfig
from feint.errors import FeintError


@dataclass
class BoxedImages:
    """Images and their objects: `boxes[i]` is (N, 4) xyxy pixels, `labels[i]` indexes `classes`."""

    paths: list[Path]
    boxes: list[np.ndarray]
    labels: list[np.ndarray]
    classes: list[str]
    sizes: list[tuple[int | None, int | None]] = field(default_factory=list)  # (w, h) the labels state
    sources: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        n = len(self.paths)
        self.sizes = list(self.sizes) or [(None, None)] * n
        self.sources = list(self.sources) or ["real"] * n
        self.groups = list(self.groups) or [str(p) for p in self.paths]
        if not (len(self.boxes) == len(self.labels) == len(self.sizes) == len(self.sources) == n):
            raise ValueError("paths, boxes, labels, sizes and sources must have one entry per image")

    def __len__(self) -> int:
        return len(self.paths)

    @property
    def n_boxes(self) -> int:
        return sum(len(b) for b in self.boxes)

    def counts(self) -> dict[str, int]:
        """Boxes per class."""
        labels = np.concatenate([*self.labels, np.zeros(0, np.int64)])
        found = np.bincount(labels, minlength=len(self.classes))
        return {c: int(k) for c, k in zip(self.classes, found, strict=True)}

    def coco(self) -> dict[str, Any]:
        """Ground truth as a COCO dict (image id = position + 1, category id = class index + 1)."""
        images: list[dict[str, Any]] = []
        annotations: list[dict[str, Any]] = []
        for i, (path, boxes, labels, (w, h)) in enumerate(
            zip(self.paths, self.boxes, self.labels, self.sizes, strict=True)
        ):
            images.append({"id": i + 1, "file_name": str(path), "width": w, "height": h})
            for (x0, y0, x1, y1), k in zip(boxes.tolist(), labels.tolist(), strict=True):
                annotations.append(
                    {
                        "id": len(annotations) + 1,
                        "image_id": i + 1,
                        "category_id": k + 1,
                        "bbox": [x0, y0, x1 - x0, y1 - y0],
                        "area": (x1 - x0) * (y1 - y0),
                        "iscrowd": 0,
                    }
                )
        return {
            "images": images,
            "annotations": annotations,
            "categories": [{"id": k + 1, "name": c} for k, c in enumerate(self.classes)],
        }


def from_dataset(dataset: Any, classes: Sequence[str] | None = None, where: str = "") -> BoxedImages:
    """Every record with its boxes (an image without boxes stays: it teaches the detector background).

    `classes` fixes the label order (default: the dataset's); a box of another class is an error naming it.
    """
    classes = list(classes) if classes is not None else list(dataset.classes)
    index = {c: i for i, c in enumerate(classes)}
    paths, boxes, labels, sizes, sources, groups = [], [], [], [], [], []
    for r in dataset.records:
        unknown = [c for c in r.box_labels if c not in index]
        if unknown:
            raise FeintError(
                f"{r.image}: class {unknown[0]!r} is unknown to the model (its classes: "
                f"{', '.join(classes)}); keep the shared classes with --classes"
            )
        paths.append(r.image)
        boxes.append(np.asarray(r.boxes, dtype=np.float64).reshape(-1, 4))
        labels.append(np.array([index[c] for c in r.box_labels], dtype=np.int64))
        sizes.append((r.width, r.height))
        sources.append(r.source)
        groups.append(r.group)
    images = BoxedImages(paths, boxes, labels, classes, sizes, sources, groups)
    if not images.n_boxes:
        raise FeintError(
            f"{where or dataset.root}: no boxes at all: a detector needs images with labelled "
            "objects (is this a classification dataset?)"
        )
    return images


def select_data(cfg: DetectConfig, notes: list[tuple[str, str]] | None = None) -> tuple[Any, Any]:
    """Training and validation datasets (validation may be None).

    Training: the data's `split` (default: its train split if it has splits, a note in `notes` saying so;
    splits without a train split need `split`). Validation: `val` (its `val_split` if given), else the
    data's `val_split` or, by default, its val split; never images (or, within the data, groups) that are
    trained on. Notes go to `notes` when given, else they are printed.
    """
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes
    from feint.training.data import check_held_out, tell, training_split

    told: list[tuple[str, str]] = [] if notes is None else notes
    dataset = load_dataset(Path(cfg.data), cfg.format)
    split = cfg.split or training_split(cfg.data, dataset, None, told)
    train = dataset.split(split) if split else dataset
    held = None
    if cfg.val:
        held = load_dataset(Path(cfg.val), None, cfg.val_split)
        same = os.path.realpath(cfg.val) == os.path.realpath(cfg.data)
        check_held_out(held, [train], f"--val {cfg.val}", train if same else None)
    elif cfg.val_split or (split == "train" and "val" in dataset.splits):
        name = cfg.val_split or "val"
        if name == split:
            raise FeintError(
                f"--val-split {name}: that is the split trained on; validate on another split "
                f"of {cfg.data} ({', '.join(dataset.splits)}) or on another dataset (--val)"
            )
        held = dataset.split(name)
        check_held_out(
            held, [train], f"--val-split {name}" if cfg.val_split else f"the val split of {cfg.data}", train
        )
    if cfg.classes:
        train = keep_classes(train, list(cfg.classes))
        held = keep_classes(held, list(cfg.classes)) if held is not None else None
    if notes is None:  # a library call: say it now (the command says it once the run starts)
        tell(told)
    return train, held


def detection_sets_of(train: Any, held: Any) -> tuple[BoxedImages, BoxedImages | None]:
    """`BoxedImages` of the datasets; an error for no boxes, or a class without training boxes."""
    train_set = from_dataset(train)
    empty = [c for c, k in train_set.counts().items() if k == 0]
    if empty:
        raise FeintError(
            f"class {empty[0]!r} has no training boxes in {train.root}; train on the others with --classes"
        )
    return train_set, from_dataset(held, train_set.classes) if held is not None else None


def load_image(
    path: Path, size: int, expected: tuple[int | None, int | None] = (None, None)
) -> tuple[np.ndarray, tuple[int, int]]:
    """RGB uint8 (H, W, 3) with its longer side `size`, and the file's own (width, height).

    A clear error for a missing, corrupt or truncated file, or one whose size is not what its labels say
    (the boxes would land in the wrong place).
    """
    from PIL import Image

    try:
        with Image.open(path) as file:
            original = file.size
            file.draft("RGB", (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale when still >= size
            img = file.convert("RGB")
    except FileNotFoundError:
        raise FeintError(f"image {path} not found") from None
    except (OSError, SyntaxError, ValueError) as err:  # PIL's ways of saying corrupt or truncated
        raise FeintError(f"{path}: corrupt or unreadable image ({err})") from None
    if None not in expected and tuple(expected) != original:
        raise FeintError(
            f"{path}: image is {original[0]}x{original[1]} but the labels say {expected[0]}x{expected[1]}"
        )
    scale = size / max(original)
    target = (max(1, round(original[0] * scale)), max(1, round(original[1] * scale)))
    if img.size != target:
        img = img.resize(target, Image.Resampling.BILINEAR)
    return np.array(img), original  # a writable copy: torch refuses read-only arrays


ZOOM_OUT = (1.0, 2.0)  # canvas side / image side: objects down to half their size
CANVAS = (124, 116, 104)  # ImageNet's mean colour, what the zoomed-out image is placed on


def _jitter_transform(rotate: bool) -> Any:
    """Zoom out (p 0.3), crop in around the boxes (p 0.3), colour change (p 0.5), a quarter turn either way
    (p 0.25, with `rotate`), then SanitizeBoundingBoxes (boxes cropped to nothing go, with their labels)."""
    from torchvision.transforms import v2

    turns = [v2.RandomRotation((a, a), expand=True) for a in (90, -90)]
    return v2.Compose(
        [
            *([v2.RandomApply([v2.RandomChoice(turns)], p=0.25)] if rotate else []),
            v2.RandomZoomOut(fill=CANVAS, side_range=ZOOM_OUT, p=0.3),
            v2.RandomApply(
                [v2.RandomIoUCrop(min_scale=0.5, min_aspect_ratio=0.75, max_aspect_ratio=1.33)], p=0.3
            ),
            v2.RandomPhotometricDistort(p=0.5),
            v2.SanitizeBoundingBoxes(min_size=2.0),
        ]
    )


def jitter(
    pixels: np.ndarray,
    boxes: np.ndarray,
    labels: np.ndarray,
    size: int,
    seed: Sequence[int],
    rotate: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`pixels` (H, W, 3 uint8) with its `boxes` (xyxy) and `labels` zoomed, cropped, recoloured (and with
    `rotate` turned), decided by `seed` alone; returned with the longer side `size` again."""
    from torchvision import tv_tensors
    from torchvision.transforms.v2 import functional as F

    if not len(boxes):  # nothing to crop around: colours only would be all; keep the image as it is
        return pixels, boxes, labels
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(np.random.default_rng(list(seed)).integers(2**62)))
        image = tv_tensors.Image(torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1))
        box = tv_tensors.BoundingBoxes(
            torch.as_tensor(boxes, dtype=torch.float32), format="XYXY", canvas_size=tuple(pixels.shape[:2])
        )
        image, target = _jitter_transform(rotate)(image, {"boxes": box, "labels": torch.as_tensor(labels)})
        h, w = image.shape[-2:]
        scale = size / max(h, w)
        shape = [max(1, round(h * scale)), max(1, round(w * scale))]
        image, box = F.resize(image, shape), F.resize(target["boxes"], shape)
    return image.permute(1, 2, 0).numpy(), box.numpy().astype(np.float64), target["labels"].numpy()


class DetectionSet(torch.utils.data.Dataset):
    """`BoxedImages` for torchvision detectors: (uint8 (3, H, W) tensor, target) pairs, H or W = size.

    The target holds `boxes` (float32 xyxy in the resized image), `labels` (int64, 1-based: 0 is
    torchvision's background) and `scale` (resized / original, x and y) to map detections back.
    `augment`: None (as they are), "flip" (left-right, half the images), "jitter" (flips, zoom, crop,
    colour) or "rotate" (jitter and quarter turns).
    """

    def __init__(self, images: BoxedImages, size: int, augment: str | None = None, seed: int = 0) -> None:
        if augment not in (None, *AUGMENTS):
            raise FeintError(f"--augment {augment!r}: expected one of {', '.join(AUGMENTS)}")
        self.images = images
        self.size = size
        self.augment = augment
        self.seed = seed
        self.epoch = 0  # set before each epoch: augmentation depends on (seed, epoch, image)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        pixels, (w, h) = load_image(self.images.paths[i], self.size, self.images.sizes[i])
        sx, sy = pixels.shape[1] / w, pixels.shape[0] / h
        boxes = self.images.boxes[i] * np.array([sx, sy, sx, sy])
        labels = self.images.labels[i]
        if self.augment in ("jitter", "rotate"):
            pixels, boxes, labels = jitter(
                pixels, boxes, labels, self.size, (self.seed, self.epoch, i, 13), self.augment == "rotate"
            )
        if self.augment and np.random.default_rng([self.seed, self.epoch, i, 11]).random() < 0.5:
            pixels = pixels[:, ::-1]
            boxes = np.stack(
                [pixels.shape[1] - boxes[:, 2], boxes[:, 1], pixels.shape[1] - boxes[:, 0], boxes[:, 3]],
                axis=1,
            )
        target = {
            "boxes": torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4),
            "labels": torch.as_tensor(labels + 1, dtype=torch.int64),
            "scale": torch.tensor([sx, sy], dtype=torch.float64),
        }
        return torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1), target


def collate(batch: list[tuple[torch.Tensor, dict[str, torch.Tensor]]]) -> tuple[list, list]:
    """Detection batches stay lists: images differ in size (the model pads them itself)."""
    return [b[0] for b in batch], [b[1] for b in batch]


def batches(batched: torch.utils.data.DataLoader) -> Iterator[tuple[list, list]]:
    """The loader's batches; a FeintError from a worker process (a corrupt image) stays one line, without
    the worker's traceback that the DataLoader puts into its message."""
    try:
        yield from batched
    except FeintError as err:
        raise FeintError(str(err).strip().rsplit("FeintError: ", 1)[-1]) from None


def loader(
    dataset: DetectionSet, batch: int, workers: int = 0, shuffle: bool = False
) -> torch.utils.data.DataLoader:
    """A DataLoader over `dataset`; set its `epoch` (flips) and the sampler's seed before each epoch."""
    generator = torch.Generator().manual_seed(dataset.seed) if shuffle else None
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch,
        shuffle=shuffle,
        num_workers=workers,
        collate_fn=collate,
        generator=generator,
    )
