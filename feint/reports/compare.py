"""Zero-shot accuracy of several studies side by side: the per-class table a README or a review wants
when one graph is compared with another (before/after a change, before/after `feint tune`)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from feint.errors import FeintError


@dataclass
class ZeroShot:
    """The zero-shot runs of one study folder, averaged over their seeds."""

    label: str
    classes: list[str]
    per_class: int
    accuracy: float
    recall: dict[str, float]  # the classes with test photos only
    confusion: np.ndarray  # summed over seeds
    seeds: int


def read_zero_shot(folder: Path, label: str | None = None, per_class: int | None = None) -> ZeroShot:
    """The zero-shot runs of a finished study (`per_class`: which amount of renders; default the most)."""
    table_path = folder / "results.parquet"
    if not table_path.is_file():
        raise FeintError(f"{folder}: no results.parquet (not a finished study folder)")
    table = pd.read_parquet(table_path)
    rows = table[table.step == "zero_shot"]
    if rows.empty:
        raise FeintError(f"{folder}: the study has no zero_shot step")
    n = int(per_class or rows.synthetic_per_class.max())
    rows = rows[rows.synthetic_per_class == n]
    if rows.empty:
        raise FeintError(f"{folder}: no zero-shot runs with {n} renders per class")
    runs = [json.loads((folder / "runs" / f"{key}.json").read_text()) for key in rows.run]
    # every class of the study (the confusion's rows and columns); runs of earlier versions do not name
    # them, but their recall held every class
    classes = list(runs[0].get("classes") or runs[0]["per_class_recall"])
    confusion = np.sum([np.asarray(r["confusion"]) for r in runs], axis=0)
    held = [c for k, c in enumerate(classes) if confusion[k].sum()]  # a test set may lack some classes
    return ZeroShot(
        label or folder.name,
        classes,
        n,
        float(np.mean([r["accuracy"] for r in runs])),
        {c: float(np.mean([r["per_class_recall"][c] for r in runs])) for c in held},
        confusion,
        len(runs),
    )


def markdown_table(results: list[ZeroShot]) -> str:
    """Rows: accuracy, then recall of each class; columns: the studies ("-": the class has no photos in
    that study's test set, and a line under the table says so)."""
    classes = results[0].classes
    for r in results[1:]:
        if r.classes != classes:
            raise FeintError(f"{r.label}: other classes than {results[0].label}; compare like with like")
    head = "| | " + " | ".join(r.label for r in results) + " |"
    lines = [head, "|---" * (len(results) + 1) + "|"]
    lines.append("| **accuracy** | " + " | ".join(f"**{r.accuracy:.3f}**" for r in results) + " |")
    for c in classes:
        cells = [f"{r.recall[c]:.2f}" if c in r.recall else "-" for r in results]
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    if any(len(r.recall) < len(classes) for r in results):
        lines.append("\n-: no photos of the class in that study's test set (its accuracy is over the others)")
    return "\n".join(lines)


def plot_confusions(results: list[ZeroShot], path: Path) -> None:
    """One row-normalised confusion matrix per study, side by side."""
    from feint.evaluation.metrics import normalise_rows
    from feint.evaluation.plots import pyplot, save_figure

    plt = pyplot()
    n = len(results[0].classes)
    side = max(3.0, 0.4 * n + 1.6)
    fig, axes = plt.subplots(1, len(results), figsize=(side * len(results), side + 0.3), squeeze=False)
    for ax, r in zip(axes[0], results, strict=True):
        norm = normalise_rows(r.confusion)
        ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
        for i in range(n):
            if not r.confusion[i].sum():  # no test photos of the class: no row to read
                ax.axhspan(i - 0.5, i + 0.5, color="#e6e6e6")
                ax.text((n - 1) / 2, i, "not in the test set", ha="center", va="center", fontsize=6)
            for j in range(n):
                if r.confusion[i, j]:
                    colour = "white" if norm[i, j] > 0.6 else "black"
                    ax.text(j, i, f"{norm[i, j]:.2f}", ha="center", va="center", fontsize=6, color=colour)
        ax.set_xticks(range(n), r.classes, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(n), r.classes if ax is axes[0][0] else [], fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_title(f"{r.label}: {r.accuracy:.3f}", fontsize=9)
    axes[0][0].set_ylabel("true")
    fig.tight_layout()
    save_figure(fig, path)
