"""Figures of detection: training curves, precision-recall curves, images with their boxes, a grid of them."""

from __future__ import annotations

import colorsys
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feint.evaluation.plots import pyplot, save_figure


def plot_curves(history: Sequence[dict[str, Any]], path: Path) -> None:
    """Loss (train, validation) and validation mAP per epoch, the best epoch marked (curves.png)."""
    plt = pyplot()
    epochs = [h["epoch"] for h in history]
    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(9, 3.4))
    ax_loss.plot(epochs, [h["train_loss"] for h in history], "o-", ms=3, label="train")
    if history and "val_loss" in history[0]:
        ax_loss.plot(epochs, [h["val_loss"] for h in history], "o-", ms=3, label="validation")
    if history and "val_map" in history[0]:
        ax_map.plot(epochs, [h["val_map50"] for h in history], "o-", ms=3, label="mAP@0.5")
        ax_map.plot(epochs, [h["val_map"] for h in history], "o-", ms=3, label="mAP@0.5:0.95")
    else:
        ax_map.text(0.5, 0.5, "no validation data", ha="center", va="center", transform=ax_map.transAxes)
    for ax, title in ((ax_loss, "loss"), (ax_map, "validation mAP")):
        if history:
            ax.axvline(history[-1]["best_epoch"], color="grey", ls=":", lw=1, label="best epoch")
        ax.set_xlabel("epoch")
        ax.set_title(title)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    ax_map.set_ylim(0, 1.02)
    fig.tight_layout()
    save_figure(fig, path)


def plot_pr_curves(curves: dict[str, Any], path: Path, title: str = "") -> None:
    """Precision against recall at IoU 0.5, one line per class (COCO's interpolated precision)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.8, 4.2))
    for name, precision in curves["precision"].items():
        ap = float(np.mean(precision))
        ax.plot(curves["recall"], precision, lw=1.5, label=f"{name} (AP@0.5 {ap:.3f})")
    if not curves["precision"]:
        ax.text(0.5, 0.5, "no ground-truth boxes", ha="center", va="center")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower left")
    ax.set_title(title or "precision-recall, IoU 0.5", fontsize=9)
    fig.tight_layout()
    save_figure(fig, path)


def class_colour(k: int) -> tuple[int, int, int]:
    """Distinct, saturated colours: hues spaced by the golden angle."""
    r, g, b = colorsys.hsv_to_rgb((k * 0.618034) % 1.0, 0.85, 1.0)
    return round(r * 255), round(g * 255), round(b * 255)


def draw_detections(
    image: Any, boxes: np.ndarray, labels: Sequence[int], scores: Sequence[float], classes: Sequence[str]
) -> Any:
    """A copy of the PIL image with each box outlined in its class's colour, 'class score' above it.

    Line width and text grow with the image, so boxes stay readable on photos and thumbnails alike.
    """
    from PIL import ImageDraw, ImageFont

    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    side = max(image.size)
    width = max(1, round(side / 250))
    font = ImageFont.load_default(size=max(9, side // 40))
    for (x0, y0, x1, y1), k, s in zip(np.asarray(boxes).tolist(), labels, scores, strict=True):
        colour = class_colour(int(k))
        draw.rectangle([x0, y0, x1, y1], outline=colour, width=width)
        text = f"{classes[int(k)]} {s:.2f}"
        left, top, right, bottom = draw.textbbox((x0, y0), text, font=font)
        lift = bottom - top + 2 * width
        y_text = y0 - lift if y0 - lift >= 0 else y0  # above the box, or inside it at the top edge
        draw.rectangle([x0, y_text, x0 + right - left + 2 * width, y_text + lift], fill=colour)
        draw.text((x0 + width, y_text + width - (top - y0)), text, fill=(0, 0, 0), font=font)
    return image


def image_grid(images: Sequence[Any], path: Path, columns: int = 4, tile: int = 320) -> None:
    """Images (PIL) side by side, each fitted into a `tile` square, as one PNG."""
    from PIL import Image

    from feint.io import write_bytes_atomic

    columns = max(1, min(columns, len(images)))
    rows = max(1, -(-len(images) // columns))
    grid = Image.new("RGB", (columns * tile, rows * tile), (255, 255, 255))
    for k, img in enumerate(images):
        thumb = img.copy()
        thumb.thumbnail((tile - 4, tile - 4))
        x = (k % columns) * tile + (tile - thumb.width) // 2
        y = (k // columns) * tile + (tile - thumb.height) // 2
        grid.paste(thumb, (x, y))
    buffer = io.BytesIO()
    grid.save(buffer, format="PNG")
    write_bytes_atomic(path, buffer.getvalue())
