"""The numbers a reader of a study wants first, read off its results table."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def headlines(table: pd.DataFrame) -> dict[str, Any]:
    """Zero-shot, 100 % real, the smallest real share that matches it with renders added, and the best
    mix."""
    out: dict[str, Any] = {}
    if table.empty:
        return out
    table = table[table.step != "mixing"]  # scored on the validation photos, not the study's
    zs = table[table.step == "zero_shot"]
    if len(zs):
        out["zero_shot_accuracy"] = float(zs.accuracy.mean())
    real_full = table[
        (table.real_fraction == 1.0) & (table.synthetic_per_class == 0) & (table.step != "epochs")
    ]
    if len(real_full):
        out["real_100_accuracy"] = float(real_full.drop_duplicates("run").accuracy.mean())
    grid = table[table.step == "grid"]
    if len(grid) and "real_100_accuracy" in out:
        means = grid.groupby(["real_fraction", "synthetic_per_class"]).accuracy.mean().reset_index()
        mixed = means[means.synthetic_per_class > 0]
        if len(mixed):
            best = mixed.loc[mixed.accuracy.idxmax()]
            out["best_mix"] = {
                "real_fraction": float(best.real_fraction),
                "synthetic_per_class": int(best.synthetic_per_class),
                "accuracy": float(best.accuracy),
            }
            matching = mixed[mixed.accuracy >= out["real_100_accuracy"]].sort_values("real_fraction")
            if len(matching):
                m = matching.iloc[0]
                out["smallest_matching_real_fraction"] = {
                    "real_fraction": float(m.real_fraction),
                    "synthetic_per_class": int(m.synthetic_per_class),
                    "accuracy": float(m.accuracy),
                }
            for frac in (0.1,):
                row = mixed[np.isclose(mixed.real_fraction, frac)]
                if len(row):
                    r = row.loc[row.accuracy.idxmax()]
                    out[f"real_{int(frac * 100)}_plus_synthetic"] = {
                        "synthetic_per_class": int(r.synthetic_per_class),
                        "accuracy": float(r.accuracy),
                    }
    return out
