"""Checks that run before anything is written: boxes inside their image, sizes known, images decodable."""

from __future__ import annotations

from collections.abc import Sequence

from feint.datasets.core import Dataset
from feint.datasets.images import check_images
from feint.errors import FeintError

# Boxes may overhang the image by this much (pixels): rounding in YOLO's normalised text and in
# converters that write float boxes. Anything further out is a labelling error and is refused.
BOX_TOLERANCE_PX = 0.5


def check_box(box: Sequence[float], width: int | None, height: int | None, where: str) -> None:
    """Refuse empty boxes and boxes outside their image (xyxy pixels), naming `where`."""
    x0, y0, x1, y1 = box
    if not all(v == v for v in box):  # NaN
        raise FeintError(f"{where}: box {_fmt(box)} has a NaN coordinate")
    if x1 <= x0 or y1 <= y0:
        raise FeintError(f"{where}: empty box {_fmt(box)} (width and height must be > 0)")
    if width is None or height is None:
        return
    t = BOX_TOLERANCE_PX
    if x0 < -t or y0 < -t or x1 > width + t or y1 > height + t:
        raise FeintError(f"{where}: box {_fmt(box)} (x0, y0, x1, y1) lies outside the {width}x{height} image")


def _fmt(box: Sequence[float]) -> str:
    return "[" + ", ".join(f"{v:g}" for v in box) + "]"


def check_dataset(dataset: Dataset) -> None:
    """Everything a writer relies on: images present, sizes known, boxes valid. Cheap (no decoding)."""
    if not len(dataset):
        raise FeintError(f"{dataset.root}: the dataset is empty (no images)")
    for r in dataset.records:
        if r.width is None or r.height is None:
            raise FeintError(f"{r.image}: image size unknown")
        for box in r.boxes:
            check_box(box.tolist(), r.width, r.height, str(r.image))


def check_decodes(dataset: Dataset) -> None:
    """Decode every image (slow-ish: ~0.5 s for 1,819 small JPEGs); catches truncated and corrupt files."""
    check_images([r.image for r in dataset.records], [(r.width, r.height) for r in dataset.records])
