"""Failure analysis of a zero-shot model: which real photos fail, which renders they resemble, and which
graph parameters to change.

For each class:
- the real test photos it gets wrong, beside their nearest renders in backbone feature space;
- a domain-gap score: KID (kernel inception distance, polynomial kernel) between the class's real and
  synthetic backbone features (0 = same distribution);
- parameter suggestions: the renders nearest to the real photos (train + val, never test) are compared
  with all renders of the class, parameter by parameter; where they differ most, the graph should move.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from PIL import Image

from feint.io import write_bytes_atomic, write_json_atomic
from feint.studies.data import StudyData

NEIGHBOURS = 5
SKIP_PARAMS = (
    "index",
    "seed",
    "attempt",
    "class",
    "asset.params",
    "asset.file",
    "file_name",
    "redraws",
    "render.",
)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-9)


def kid(a: np.ndarray, b: np.ndarray, max_n: int = 500, seed: int = 0) -> float:
    """Unbiased MMD^2 with the cubic polynomial kernel of KID, on (subsampled) feature sets."""
    rng = np.random.default_rng(seed)
    a = a[rng.permutation(len(a))[:max_n]]
    b = b[rng.permutation(len(b))[:max_n]]
    if len(a) < 2 or len(b) < 2:
        return float("nan")
    d = a.shape[1]

    def k(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return (x @ y.T / d + 1.0) ** 3

    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    n, m = len(a), len(b)
    return float(
        (kaa.sum() - np.trace(kaa)) / (n * (n - 1))
        + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
        - 2 * kab.mean()
    )


def parameter_shifts(meta: pd.DataFrame, near: np.ndarray, top: int = 3) -> list[dict[str, Any]]:
    """Parameters whose values among the renders nearest to real photos differ most from all renders.

    Numbers: the two-sample Kolmogorov-Smirnov distance, and the range holding the middle 80 % of the
    near renders. Categories: the value most over-represented among the near renders (lift).
    """
    found = []
    near_set = meta.iloc[near]
    for col in meta.columns:
        if any(col == s or (s.endswith(".") and col.startswith(s)) for s in SKIP_PARAMS):
            continue
        every, close = meta[col].dropna(), near_set[col].dropna()
        if len(close) < 5 or every.nunique() < 2:
            continue
        if (
            pd.api.types.is_numeric_dtype(every)
            and not pd.api.types.is_bool_dtype(every)
            and every.nunique() > 6
        ):
            grid = np.sort(every.to_numpy(dtype=float))
            cdf_all = np.searchsorted(grid, grid, side="right") / len(grid)
            cdf_near = np.searchsorted(np.sort(close.to_numpy(dtype=float)), grid, side="right") / len(close)
            distance = float(np.abs(cdf_all - cdf_near).max())
            lo, hi = np.quantile(close.to_numpy(dtype=float), [0.1, 0.9])
            share = float(((every >= lo) & (every <= hi)).mean())
            found.append(
                {
                    "parameter": col,
                    "kind": "number",
                    "score": distance,
                    "near_low": float(lo),
                    "near_high": float(hi),
                    "renders_in_range": share,
                    "near_median": float(close.median()),
                    "all_median": float(every.median()),
                }
            )
        else:
            freq_all = every.astype(str).value_counts(normalize=True)
            freq_near = close.astype(str).value_counts(normalize=True)
            lift = (freq_near / freq_all).dropna()
            value = str(lift.idxmax())
            score = float(0.5 * (freq_near.reindex(freq_all.index, fill_value=0) - freq_all).abs().sum())
            found.append(
                {
                    "parameter": col,
                    "kind": "category",
                    "score": score,
                    "value": value,
                    "near_share": float(freq_near.get(value, 0)),
                    "all_share": float(freq_all[value]),
                }
            )
    return sorted(found, key=lambda f: -f["score"])[:top]


def suggestion(cls: str, shift: dict[str, Any]) -> str:
    p = shift["parameter"]
    if shift["kind"] == "number":
        return (
            f"{cls}: real photos sit nearest renders with {p} in [{shift['near_low']:.3g}, "
            f"{shift['near_high']:.3g}] (median {shift['near_median']:.3g} vs {shift['all_median']:.3g} "
            f"over all renders); only {shift['renders_in_range']:.0%} of renders are in that range"
        )
    return (
        f"{cls}: real photos sit nearest renders with {p} = {shift['value']} ({shift['near_share']:.0%} of "
        f"nearest renders vs {shift['all_share']:.0%} of all): draw it more often"
    )


def _grid(rows: list[list[Path]], tile: tuple[int, int] = (120, 83)) -> bytes:
    cols = max((len(r) for r in rows), default=1)
    sheet = Image.new("RGB", (cols * tile[0] + 6, max(1, len(rows)) * tile[1]), (255, 255, 255))
    for y, row in enumerate(rows):
        for x, path in enumerate(row):
            with Image.open(path) as im:
                sheet.paste(im.convert("RGB").resize(tile), (x * tile[0] + (6 if x else 0), y * tile[1]))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()


def analyse(data: StudyData, zero_shot: dict[str, Any], out: Path) -> dict[str, Any]:
    """Write per-class mistake grids and return gap scores, parameter shifts and suggestions."""
    syn = data.synthetic
    assert syn is not None and syn.meta is not None
    out.mkdir(parents=True, exist_ok=True)
    pred = np.asarray(zero_shot["predicted"])
    syn_unit = _unit(syn.features)
    reference = np.concatenate([data.train.features, data.val.features])
    reference_labels = np.concatenate([data.train.labels, data.val.labels])
    classes: dict[str, Any] = {}
    suggestions: list[str] = []
    for c, name in enumerate(data.classes):
        in_class = np.flatnonzero(syn.labels == c)
        real_c = reference[reference_labels == c]
        gap = kid(real_c, syn.features[in_class]) if len(in_class) else float("nan")
        shifts: list[dict[str, Any]] = []
        if len(in_class) >= 10 and len(real_c):
            sims = _unit(real_c) @ syn_unit[in_class].T
            near = np.unique(np.argsort(-sims, axis=1)[:, :NEIGHBOURS].ravel())
            shifts = parameter_shifts(syn.meta.iloc[in_class].reset_index(drop=True), near)
            suggestions.extend(suggestion(name, s) for s in shifts[:2])
        wrong = np.flatnonzero((data.test.labels == c) & (pred != c))[:6]
        grid_file = None
        if len(wrong):
            sims = _unit(data.test.features[wrong]) @ syn_unit.T
            rows = [
                [data.test.paths[i]] + [syn.paths[j] for j in np.argsort(-s)[:4]]
                for i, s in zip(wrong, sims, strict=True)
            ]
            grid_file = f"mistakes-{name}.png"
            write_bytes_atomic(out / grid_file, _grid(rows))
        total = int((data.test.labels == c).sum())
        classes[name] = {
            "kid": gap,
            "test_images": total,
            "wrong": int(((data.test.labels == c) & (pred != c)).sum()),
            "confused_with": _confused_with(zero_shot, c, data.classes),
            "shifts": shifts,
            "mistakes_grid": grid_file,
        }
    result = {
        "classes": classes,
        "suggestions": suggestions,
        "summary": {"kid": {k: v["kid"] for k, v in classes.items()}, "suggestions": suggestions},
    }
    write_json_atomic(out / "failure.json", result)
    return result


def _confused_with(zero_shot: dict[str, Any], c: int, classes: list[str]) -> str | None:
    row = np.asarray(zero_shot["confusion"])[c].copy()
    row[c] = 0
    return classes[int(row.argmax())] if row.sum() else None
