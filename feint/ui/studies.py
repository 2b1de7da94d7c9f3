"""The Studies page: headline numbers, curves and grid, failure analysis, the photos most runs miss, and a
confusion matrix whose cells open the photos behind them, each beside its nearest renders.

Everything is read from the study folder as `feint study run` left it (study.json, summary.json,
results.parquet, runs/KEY.json, images.csv, hard_photos.csv, failure/failure.json) and from feint's feature
cache, read only: a photo or render whose features are not cached is said to be so, never computed. The
curves and the grid are the HTML report's own figures (feint.reports.study), so page and report agree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse

from feint.errors import FeintError
from feint.ui import catalog
from feint.ui.roots import Roots
from feint.ui.web import checked, page, roots

router = APIRouter()
NEAREST = 3  # renders shown beside each photo of a confusion cell
HARD_SHOWN = 36  # photos most runs miss shown on the page (all are in hard_photos.csv)
STEPS = {
    "zero_shot": "zero-shot",
    "baseline": "real only",
    "epochs": "epoch fit",
    "grid": "grid",
    "finetune:finetune": "fine-tune",
    "finetune:merged": "merged",
}
NO_IMAGES = (
    "This study folder has no images.csv: opening the photos behind a cell needs a study run with this "
    "feint version (`feint study run` again; finished runs are reused)."
)


@dataclass(frozen=True)
class Study:
    """A finished study folder, its files read once per request."""

    folder: Path
    spec: dict[str, Any]
    summary: dict[str, Any]
    table: pd.DataFrame

    @property
    def classes(self) -> list[str]:
        return list(self.spec["classes"])

    @cached_property
    def images(self) -> pd.DataFrame | None:
        """images.csv (role, file, group, label), or None for a study made before feint wrote it."""
        path = self.folder / "images.csv"
        return pd.read_csv(path, dtype=str) if path.is_file() else None

    def run(self, key: str) -> dict[str, Any]:
        """runs/KEY.json of one of the study's runs scored on its scored photos (a key the results table
        names outside the mixing step, whose runs were scored on the validation photos)."""
        scored = self.table[self.table.step != "mixing"]
        if not re.fullmatch(r"[0-9a-f]{8,64}", key) or key not in set(scored.run):
            raise FeintError(f"{key!r}: not a run of the study {self.folder.name}")
        record: dict[str, Any] = json.loads((self.folder / "runs" / f"{key}.json").read_text())
        return record


def read_study(folder: Path) -> Study:
    """The study in `folder` (study.json, summary.json and its results table); one clear line if it is not
    a finished study folder."""
    try:
        spec = json.loads((folder / "study.json").read_text())
        summary = json.loads((folder / "summary.json").read_text())
    except (OSError, ValueError) as err:
        raise FeintError(f"{folder}: not a finished study folder ({err})") from None
    if (folder / "results.parquet").is_file():
        table = pd.read_parquet(folder / "results.parquet")
    elif (folder / "results.csv").is_file():
        table = pd.read_csv(folder / "results.csv")
    else:
        raise FeintError(f"{folder}: no results.parquet or results.csv (not a finished study folder)")
    return Study(folder, spec, summary, table)


def run_choices(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Every run of the table once (a run shared by two steps, e.g. zero-shot and a grid cell, is listed
    under its first), labelled by what a reader chooses it by. The mixing step's runs are left out: they
    were scored on the validation photos, so their confusion cells are not the scored photos'."""
    choices = []
    for _, row in table[table.step != "mixing"].drop_duplicates("run").iterrows():
        label = (
            f"{STEPS.get(row.step, row.step)} · {100 * row.real_fraction:.0f} % real · "
            f"{int(row.synthetic_per_class)} renders/class · {row['mode']} · seed {int(row.seed)} · "
            f"{100 * row.accuracy:.1f} %"
        )
        choices.append({"key": row.run, "label": label, "step": row.step})
    return choices


def default_run(table: pd.DataFrame) -> str:
    """The zero-shot run with most renders (first seed); without one, a 100 %-real run; else the first."""
    zero_shot = table[table.step == "zero_shot"]
    if len(zero_shot):
        return str(zero_shot.sort_values("synthetic_per_class", ascending=False, kind="stable").run.iloc[0])
    full = table[(table.real_fraction == 1.0) & (table.synthetic_per_class == 0)]
    return str((full if len(full) else table).run.iloc[0])


def headlines(study: Study) -> list[dict[str, str]]:
    """The numbers a reader wants first: zero-shot, 100 % real, the best mix and the epoch fit."""
    h = study.summary.get("headlines", {})
    cards = []
    if "zero_shot_accuracy" in h:
        cards.append({"name": "zero-shot (renders only)", "value": _pct(h["zero_shot_accuracy"])})
    if "real_100_accuracy" in h:
        cards.append({"name": "100 % real", "value": _pct(h["real_100_accuracy"])})
    if "best_mix" in h:
        b = h["best_mix"]
        cards.append(
            {
                "name": f"best mix: {100 * b['real_fraction']:.0f} % real + {b['synthetic_per_class']} "
                "renders/class",
                "value": _pct(b["accuracy"]),
            }
        )
    if "smallest_matching_real_fraction" in h:
        m = h["smallest_matching_real_fraction"]
        cards.append({"name": "smallest real share matching 100 % real", "value": _pct(m["real_fraction"])})
    fit = study.summary.get("epoch_fit") or {}
    if fit.get("points"):
        cards.append(
            {
                "name": "best epoch against training images",
                "value": f"{fit['intercept']:.1f} + {fit['slope']:.4f} × n",
            }
        )
    return cards


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def figures(study: Study) -> list[str]:
    """The report's curves and grid (each a section with its embedded figure): the baseline curve with
    fine-tune, merged and zero-shot, the real share x renders grid and the epoch fit."""
    from feint.reports.study import _baseline, _epochs, _grid

    t, spec = study.table, study.spec
    scored = "held-out validation" if spec.get("score_on") == "validation" else "test"
    shown = [_baseline(t, study.summary.get("headlines", {}), scored)]
    if len(t[t.step == "grid"]):
        shown.append(_grid(t[t.step == "grid"]))
    fit = study.summary.get("epoch_fit") or {}
    if fit.get("points") and "epochs" in spec:
        shown.append(_epochs(fit, spec["epochs"]))
    return shown


def failure(study: Study) -> dict[str, Any] | None:
    """failure/failure.json with each class's mistakes grid (an image of the study folder), if there."""
    path = study.folder / "failure" / "failure.json"
    if not path.is_file():
        return None
    found: dict[str, Any] = json.loads(path.read_text())
    for info in found.get("classes", {}).values():
        grid = info.get("mistakes_grid")
        info["grid_path"] = str(study.folder / "failure" / grid) if grid else None
    return found


def hard_photos(study: Study, readable: Roots) -> tuple[list[dict[str, Any]], int]:
    """The first HARD_SHOWN photos of hard_photos.csv (label, the class it is taken for, the share of runs
    missing it, its flags) and how many there are."""
    path = study.folder / "hard_photos.csv"
    if not path.is_file():
        return [], 0
    table = pd.read_csv(path)
    core = {"file", "group", "label", "taken_for", "missed_by", "runs"}
    photos = [
        {
            "file": row.file,
            "allowed": readable.allows(row.file),
            "label": row.label,
            "taken_for": row.taken_for,
            "missed": _pct(row.missed_by),
            "flags": [c for c in table.columns if c not in core and row[c]],
        }
        for _, row in table.head(HARD_SHOWN).iterrows()
    ]
    return photos, len(table)


@router.get("/studies", response_class=HTMLResponse)
def studies_list(request: Request) -> HTMLResponse:
    entries = [e for e in catalog.scan(roots(request)) if e.kind == "study"]
    return page(request, "list.html", title="Studies", entries=entries, link="/study")


@router.get("/study", response_class=HTMLResponse)
def study_page(request: Request, path: str, run: str | None = None) -> HTMLResponse:
    """One study: headlines, curves and grid, the confusion matrix of `run` (default: `default_run`),
    failure analysis and the photos most runs miss."""
    study = read_study(checked(request, path))
    key = run or default_run(study.table)
    photos, n_hard = hard_photos(study, roots(request))
    return page(
        request,
        "study.html",
        study=study,
        headlines=headlines(study),
        figures=figures(study),
        runs=run_choices(study.table),
        run=key,
        confusion=study.run(key)["confusion"],
        failure=failure(study),
        hard=photos,
        n_hard=n_hard,
        no_images=None if study.images is not None else NO_IMAGES,
    )


@router.get("/api/study/cell")
def cell(request: Request, path: str, run: str, true: int, pred: int) -> dict[str, Any]:
    """The test photos of one cell of `run`'s confusion matrix (true class `true`, predicted `pred`), in
    scoring order, each with its nearest renders by cosine similarity of cached backbone features."""
    study = read_study(checked(request, path))
    images = study.images
    if images is None:
        raise FeintError(NO_IMAGES)
    classes = study.classes
    if not (0 <= true < len(classes) and 0 <= pred < len(classes)):
        raise HTTPException(404, f"no cell ({true}, {pred}) in a {len(classes)}-class matrix")
    predicted = study.run(run).get("predicted")
    test = images[images.role == "test"].reset_index(drop=True)
    if predicted is None or len(predicted) != len(test):
        raise FeintError(NO_IMAGES)
    rows = [i for i in range(len(test)) if test.label[i] == classes[true] and int(predicted[i]) == pred]
    renders = images[images.role == "synthetic"].reset_index(drop=True)
    return {
        "true": classes[true],
        "predicted": classes[pred],
        **nearest_renders(study, test.iloc[rows].reset_index(drop=True), renders, roots(request)),
    }


def nearest_renders(
    study: Study, photos: pd.DataFrame, renders: pd.DataFrame, readable: Roots
) -> dict[str, Any]:
    """`photos` (rows of images.csv), each with its NEAREST renders by cosine similarity of the study's
    backbone features at its image size, read from the feature cache; what could not be matched is said
    (no cached features, files outside the folders given to feint ui)."""
    from feint.training.cache import cached_feature_rows

    backbone, size = study.spec["backbone"], int(study.spec["image_size"])
    photo_files, render_files = list(photos.file), list(renders.file)
    open_photos = [i for i, f in enumerate(photo_files) if readable.allows(f)]
    open_renders = [i for i, f in enumerate(render_files) if readable.allows(f)]
    found_p, feats_p = cached_feature_rows([Path(photo_files[i]) for i in open_photos], backbone, size)
    found_r, feats_r = cached_feature_rows([Path(render_files[i]) for i in open_renders], backbone, size)
    feature_of = {open_photos[int(j)]: n for n, j in enumerate(found_p)}
    render_at = [open_renders[int(j)] for j in found_r]
    sims = _unit(feats_p) @ _unit(feats_r).T if len(found_p) and len(found_r) else None
    shown = []
    for i, (file, label, group) in enumerate(zip(photo_files, photos.label, photos.group, strict=True)):
        n = feature_of.get(i)
        nearest = None
        if sims is not None and n is not None:
            nearest = [
                {
                    "file": render_files[render_at[j]],
                    "label": renders.label[render_at[j]],
                    "similarity": round(float(sims[n, j]), 3),
                }
                for j in np.argsort(-sims[n], kind="stable")[:NEAREST]
            ]
        shown.append(
            {"file": file, "label": label, "group": group, "allowed": i in open_photos, "nearest": nearest}
        )
    outside = [f for f in render_files if not readable.allows(f)]
    notes = [
        *_render_notes(len(render_files), outside, len(open_renders) - len(found_r)),
        *_photo_notes(len(photo_files), len(photo_files) - len(open_photos), len(open_photos) - len(found_p)),
    ]
    return {"photos": shown, "notes": notes, "features": f"{backbone} at {size} px"}


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _render_notes(renders: int, outside: list[str], uncached: int) -> list[str]:
    """Why renders are missing from the comparison, one line per reason."""
    if renders == 0:
        return ["The study used no renders: there are no nearest renders to show."]
    notes = []
    if outside:
        notes.append(
            f"{len(outside)} of the study's {renders} renders lie outside the folders given to feint ui "
            f"(they are in {Path(outside[0]).parent.parent}): give that folder to feint ui to compare "
            "with them."
        )
    if uncached:
        notes.append(f"{uncached} of the renders have no cached features.")
    return notes


def _photo_notes(photos: int, outside: int, uncached: int) -> list[str]:
    notes = []
    if outside:
        notes.append(f"{outside} of these {photos} photos lie outside the folders given to feint ui.")
    if uncached:
        notes.append(
            f"{uncached} of these {photos} photos have no cached features: feint ui only reads the feature "
            "cache, which `feint study run` fills."
        )
    return notes
