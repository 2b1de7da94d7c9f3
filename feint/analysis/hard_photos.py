"""Real test photos that most of a study's runs get wrong, whatever their recipe.

When runs with different real shares, render amounts and training modes all miss the same photo, no change
of graph or recipe is likely to fix it: it is mislabelled, too small to recognise, or shows two kinds of ship
with the label on one. Such photos set the ceiling a study can reach on its test set (each is 1/n of the
accuracy), so a user looks at them, and fixes labels, before chasing the last points.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from PIL import Image, ImageDraw

from feint.evaluation.metrics import flag_columns


class ScoredPhotos(Protocol):
    """The photos the runs were scored on, in scoring order (a study's test `Part` is one)."""

    @property
    def paths(self) -> Sequence[Path]: ...

    @property
    def groups(self) -> Sequence[str]: ...

    @property
    def labels(self) -> np.ndarray: ...

    @property
    def meta(self) -> pd.DataFrame | None: ...


COLUMNS = ["file", "group", "label", "taken_for", "missed_by", "runs"]


def hard_photos(
    test: ScoredPhotos, classes: Sequence[str], runs: Sequence[dict[str, Any]], min_share: float = 0.5
) -> pd.DataFrame:
    """One row per test photo that at least `min_share` of `runs` get wrong, most-missed first.

    `runs`: run results scored on `test` (their `correct` and `predicted` lists follow its order). Columns:
    the file, its group and label, the class it is most often taken for, the share of runs missing it, the
    number of runs, then the photo's 0/1 manifest flags (ships-dev: low_detail, masked_cutout).
    """
    flags = flag_columns(test.meta.to_dict("records")) if test.meta is not None else {}
    if not runs:
        return pd.DataFrame(columns=COLUMNS + list(flags))
    correct = np.array([r["correct"] for r in runs], dtype=bool)
    predicted = np.array([r["predicted"] for r in runs], dtype=np.int64)
    if correct.shape[1] != len(test.labels):
        raise ValueError(f"runs scored {correct.shape[1]} photos, the test part holds {len(test.labels)}")
    missed = 1.0 - correct.mean(axis=0)
    rows = []
    for i in np.argsort(-missed, kind="stable"):
        if missed[i] < min_share:
            break
        wrong = predicted[~correct[:, i], i]
        rows.append(
            {
                "file": str(test.paths[i]),
                "group": test.groups[i],
                "label": classes[test.labels[i]],
                "taken_for": classes[int(np.bincount(wrong, minlength=len(classes)).argmax())],
                "missed_by": float(missed[i]),
                "runs": len(runs),
                **{flag: int(on[i]) for flag, on in flags.items()},
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS + list(flags))


def contact_sheet(photos: pd.DataFrame, columns: int = 6, tile: tuple[int, int] = (160, 111)) -> bytes:
    """The photos as a PNG grid, each captioned "label -> taken for, missed by N %" under it."""
    caption = 30
    n_rows = max(1, -(-len(photos) // columns))
    width = min(columns, max(1, len(photos))) * tile[0]
    sheet = Image.new("RGB", (width, n_rows * (tile[1] + caption)), (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    for k, row in enumerate(photos.itertuples()):
        x, y = (k % columns) * tile[0], (k // columns) * (tile[1] + caption)
        with Image.open(row.file) as im:
            sheet.paste(im.convert("RGB").resize(tile), (x, y))
        draw.text((x + 3, y + tile[1] + 2), f"{row.label} -> {row.taken_for}", fill=(0, 0, 0))
        draw.text((x + 3, y + tile[1] + 15), f"missed by {row.missed_by:.0%}", fill=(90, 90, 90))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    return buf.getvalue()
