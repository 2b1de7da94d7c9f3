"""Figures of an evaluation: the confusion matrix (counts and row-normalised) and a grid of worst mistakes."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from feint.evaluation.metrics import normalise_rows
from feint.io import write_bytes_atomic


def pyplot():  # noqa: ANN202
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, path: Path, dpi: int = 90) -> None:  # noqa: ANN001
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    pyplot().close(fig)
    write_bytes_atomic(path, buffer.getvalue())


def plot_confusion(cm: np.ndarray, classes: Sequence[str], path: Path, title: str = "") -> None:
    plt = pyplot()
    n = len(classes)
    side = max(3.2, 0.45 * n + 1.8)
    fig, axes = plt.subplots(1, 2, figsize=(2 * side + 0.6, side))
    norm = normalise_rows(cm)
    for ax, values, name in ((axes[0], cm, "counts"), (axes[1], norm, "fraction of each true class")):
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    text = f"{values[i, j]:d}" if values is cm else f"{values[i, j]:.2f}"
                    ax.text(
                        j,
                        i,
                        text,
                        ha="center",
                        va="center",
                        fontsize=7 if n > 6 else 9,
                        color="white" if norm[i, j] > 0.6 else "black",
                    )
        ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(n), classes, fontsize=8)
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.set_title(name, fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    save_figure(fig, path)


def plot_mistakes(
    paths: Sequence[Path],
    true: Sequence[str],
    predicted: Sequence[str],
    scores: Sequence[float],
    path: Path,
    columns: int = 6,
) -> None:
    """The most confident wrong predictions, each titled 'true -> predicted (score)'."""
    from PIL import Image

    plt = pyplot()
    if not paths:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, "no mistakes", ha="center", va="center")
        save_figure(fig, path)
        return
    rows = -(-len(paths) // columns)
    cols = min(columns, len(paths))
    fig, axes = plt.subplots(rows, cols, figsize=(2.2 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, p, t, q, s in zip(axes.flat, paths, true, predicted, scores, strict=False):
        with Image.open(p) as opened:
            img = opened.convert("RGB")
            img.thumbnail((200, 200))
            ax.imshow(np.asarray(img))
        ax.set_title(f"{t}\n-> {q} ({s:.2f})", fontsize=7)
    fig.tight_layout()
    save_figure(fig, path)
