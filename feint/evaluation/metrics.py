"""Classification metrics from a confusion matrix, and bootstrap intervals that respect groups.

Plain numpy, so every number can be checked by hand: rows of the confusion matrix are true classes,
columns predicted classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np


def flag_columns(metas: Sequence[Mapping[str, Any]]) -> dict[str, np.ndarray]:
    """Metadata keys holding only 0/1 that vary (ships-dev: masked_cutout, low_detail), as boolean arrays:
    the subsets accuracy is reported with and without."""
    keys = sorted({k for m in metas for k in m})
    flags = {}
    for k in keys:
        values = [m.get(k) for m in metas]
        if all(v in (0, 1, True, False) for v in values) and len(set(values)) > 1:
            flags[k] = np.array([bool(v) for v in values])
    return flags


def confusion_matrix(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, n_classes: int
) -> np.ndarray:
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def normalise_rows(cm: np.ndarray) -> np.ndarray:
    """Each true class's row as fractions (a row without images stays zero)."""
    totals = cm.sum(1, keepdims=True)
    return np.divide(cm, totals, out=np.zeros(cm.shape, dtype=np.float64), where=totals > 0)


def accuracy(cm: np.ndarray) -> float:
    total = cm.sum()
    return float(np.trace(cm) / total) if total else 0.0


def balanced_accuracy(cm: np.ndarray) -> float:
    """Mean recall over the classes that have test images."""
    support = cm.sum(1)
    present = support > 0
    return float(np.mean(np.diag(cm)[present] / support[present])) if present.any() else 0.0


def per_class(cm: np.ndarray, classes: Sequence[str]) -> list[dict[str, Any]]:
    """Precision, recall, F1 and support per class (0 where undefined: no prediction or no image)."""
    tp = np.diag(cm).astype(np.float64)
    predicted, support = cm.sum(0), cm.sum(1)
    rows = []
    for i, name in enumerate(classes):
        p = tp[i] / predicted[i] if predicted[i] else 0.0
        r = tp[i] / support[i] if support[i] else 0.0
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        rows.append(
            {
                "class": name,
                "precision": float(p),
                "recall": float(r),
                "f1": float(f1),
                "support": int(support[i]),
                "predicted": int(predicted[i]),
            }
        )
    return rows


def summary(cm: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    rows = per_class(cm, classes)
    with_images = [r for r in rows if r["support"]]
    return {
        "images": int(cm.sum()),
        "accuracy": accuracy(cm),
        "balanced_accuracy": balanced_accuracy(cm),
        "macro_f1": float(np.mean([r["f1"] for r in with_images])) if with_images else 0.0,
        "per_class": rows,
    }


def bootstrap(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    n_classes: int,
    metrics: dict[str, Callable[[np.ndarray], float]],
    groups: Sequence[str] | None = None,
    n: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of each metric over `n` resamples of the test set.

    With `groups` (photos of one ship), whole groups are resampled: photos of one ship are not
    independent, and resampling them one by one would give intervals that are too narrow.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    rng = np.random.default_rng(seed)
    if groups is None:
        units = [np.array([i]) for i in range(len(y_true))]
    else:
        members: dict[str, list[int]] = {}
        for i, g in enumerate(groups):
            members.setdefault(g, []).append(i)
        units = [np.array(v) for v in members.values()]
    # Per-unit confusion matrices, summed per resample: cheap even for thousands of resamples.
    unit_cm = np.stack([confusion_matrix(y_true[u], y_pred[u], n_classes) for u in units])
    draws = rng.integers(0, len(units), size=(n, len(units)))
    counts = np.stack([np.bincount(d, minlength=len(units)) for d in draws])
    cms = np.einsum("bu,uij->bij", counts, unit_cm)
    lo, hi = (1 - level) / 2 * 100, (1 + level) / 2 * 100
    out = {}
    for name, fn in metrics.items():
        values = np.array([fn(cm) for cm in cms])
        out[name] = (float(np.percentile(values, lo)), float(np.percentile(values, hi)))
    return out
