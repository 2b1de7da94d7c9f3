"""The HTML report of a study: one self-contained file (figures embedded), readable at a glance.

It is written from plain values (`StudyFindings`: the study's settings as in study.json, its tables, the
images it ran on), so the report knows nothing of how a study runs.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from PIL import Image

from feint.io import write_text_atomic
from feint.reports.ablations import section
from feint.reports.figures import figure_img, plt, png_img
from feint.reports.page import html_page
from feint.reports.statistics import interval
from feint.training.align import describe


class Images(Protocol):
    """Images with their class indices (a study's `Part` is one)."""

    @property
    def paths(self) -> Sequence[Path]: ...

    @property
    def labels(self) -> np.ndarray: ...


@dataclass(frozen=True)
class StudyFindings:
    """What the report shows: the study's settings (`StudySpec.model_dump()`), its results and the images
    it ran on. `folder`: the study folder (runs/KEY.json, failure/ grids are read from it)."""

    spec: dict[str, Any]
    folder: Path
    table: pd.DataFrame
    headlines: dict[str, Any]
    epoch_fit: dict[str, Any]
    train: Images
    val: Images
    test: Images
    renders: Images | None
    failure: dict[str, Any]
    ablations: pd.DataFrame | None
    hard_photos: pd.DataFrame | None
    mixing: dict[float, float] = field(default_factory=dict)  # real share -> renders' share per batch


def _curve(ax: plt.Axes, rows: pd.DataFrame, x: str, label: str, marker: str = "o") -> None:
    stats = [(v, *interval(g.accuracy.to_numpy())) for v, g in rows.groupby(x)]
    if not stats:
        return
    xs, means, lows, highs = map(np.array, zip(*stats, strict=True))
    ax.plot(xs * (100 if x == "real_fraction" else 1), means, marker=marker, label=label)
    ax.fill_between(xs * (100 if x == "real_fraction" else 1), lows, highs, alpha=0.2)


def _confusion(cm: np.ndarray, classes: list[str], title: str) -> str:
    """The counts, shaded by share of each true class. The row of a class without test photos (a separate
    test set may lack some) is greyed out and says so, with no numbers; its column stays (photos can be
    taken for it)."""
    n = len(classes)
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    absent = cm.sum(1) == 0
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * n, 1.0 + 0.5 * n))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(n):
        if absent[i]:
            ax.axhspan(i - 0.5, i + 0.5, color="#e6e6e6")
            ax.text((n - 1) / 2, i, "not in the test set", ha="center", va="center", fontsize=8, color="#555")
            continue
        for j in range(n):
            ax.text(
                j,
                i,
                f"{cm[i, j]}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if norm[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(n), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(n), classes, fontsize=8)
    for i in np.flatnonzero(absent):
        ax.get_yticklabels()[i].set_color("#888")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    return figure_img(fig)


def _examples(
    classes: list[str],
    train: Images,
    renders: Images | None,
    per_class: int = 5,
    tile: tuple[int, int] = (120, 83),
) -> str:
    """Per class: a row of real training photos, then a row of renders."""
    rows = []
    for c, name in enumerate(classes):
        real = [train.paths[i] for i in np.flatnonzero(train.labels == c)[:per_class]]
        syn = (
            [renders.paths[i] for i in np.flatnonzero(renders.labels == c)[:per_class]]
            if renders is not None
            else []
        )
        rows.append((name, real, syn))
    sheet = Image.new("RGB", (tile[0] * per_class * 2 + 10, tile[1] * len(rows)), (255, 255, 255))
    for y, (_, real, syn) in enumerate(rows):
        for x, p in enumerate(real):
            with Image.open(p) as im:
                sheet.paste(im.convert("RGB").resize(tile), (x * tile[0], y * tile[1]))
        for x, p in enumerate(syn):
            with Image.open(p) as im:
                sheet.paste(im.convert("RGB").resize(tile), ((per_class + x) * tile[0] + 10, y * tile[1]))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG")
    names = ", ".join(r[0] for r in rows)
    return f"<p>Rows, top to bottom: {html.escape(names)}. Left: real photos; right: renders.</p>" + png_img(
        buf.getvalue(), "real and synthetic examples"
    )


def _hard_photos(photos: pd.DataFrame, n_test: int, scored: str, shown: int = 18) -> str:
    """The photos most runs miss: how many, what each costs, how many no run got right, and their grid."""
    from feint.analysis.hard_photos import COLUMNS, contact_sheet

    head = "<section id='hard-photos'><h2>Photos most runs miss</h2>"
    if photos.empty:
        return head + "<p>No photo is missed by half of the runs trained on photos.</p></section>"
    runs, never = int(photos.runs.iloc[0]), int((photos.missed_by == 1.0).sum())
    said = [
        f"{len(photos)} of the {n_test} {scored} photos are missed by at least half of the {runs} runs "
        f"trained on photos, whatever their real share, renders or mode; each photo is {100 / n_test:.1f} "
        "points of accuracy."
    ]
    if never:
        said.append(f"{never} were missed by every run: none scored above {_pct(1 - never / n_test)}.")
    said += [
        f"{int(photos[c].sum())} of them are marked {html.escape(c)}."
        for c in photos.columns
        if c not in COLUMNS and photos[c].sum()
    ]
    said.append(
        "Look at them before chasing the last points: a wrong label, a crop too small to recognise or two "
        "kinds of ship in one photo is mended in the data, not in the graph. All of them: "
        "<code>hard_photos.csv</code>" + (f"; the first {shown} below." if len(photos) > shown else ".")
    )
    return (
        head
        + f"<p>{' '.join(said)}</p>"
        + png_img(contact_sheet(photos.head(shown)), "photos most runs miss")
        + "</section>"
    )


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def _scored(spec: dict[str, Any]) -> str:
    return "held-out validation" if spec["score_on"] == "validation" else "test"


def _absent(f: StudyFindings) -> list[str]:
    """The study's classes without a scored photo (a separate test set may lack some)."""
    held = set(np.asarray(f.test.labels).tolist())
    return [c for k, c in enumerate(f.spec["classes"]) if k not in held]


def _absent_note(f: StudyFindings) -> str:
    """What a reader must know when the scored photos lack some classes, said once below the setup."""
    absent, classes = _absent(f), f.spec["classes"]
    if not absent:
        return ""
    scored, held = _scored(f.spec), len(classes) - len(absent)
    return (
        f"<p class='absent' id='absent-classes'><b>Not in the {scored} set: "
        f"{html.escape(', '.join(absent))}</b> ({len(absent)} of the {len(classes)} classes). "
        f"Accuracies are over the {len(f.test.labels)} {scored} photos there are; per-class recall, "
        f"balanced accuracy and the rows of the confusion matrices cover the {held} classes the {scored} "
        "set holds; a photo can still be taken for an absent class (its column stays).</p>"
    )


def _setup(f: StudyFindings) -> list[str]:
    """The title and one line on how the study was made."""
    spec = f.spec
    if spec["score_on"] == "validation":
        held_out = "held-out half of the training split; the test split is not used"
    elif spec["test"]:
        held_out = f"train/val group-disjoint; test: {html.escape(Path(spec['test']).name)}, a separate set"
    else:
        held_out = "group-disjoint"
    synthetic = spec["synthetic"]
    tuned = spec.get("mode") == "finetune"
    if tuned:
        t = spec["finetuning"]
        epochs = f"{t['epochs']} epoch{'s' if t['epochs'] != 1 else ''}"
        how = f"fine-tuned with its head, {epochs} at lr {t['lr']:g}, batch {t['batch']}"
    else:
        how = "frozen features"
    return [
        f"<h1>feint study: {html.escape(spec['name'])}</h1>",
        f"<p class='sub'>classes: {html.escape(', '.join(spec['classes']))}; backbone {spec['backbone']} "
        f"({how}, {spec['image_size']} px); real train/val/{_scored(spec)}: "
        f"{len(f.train.labels)}/{len(f.val.labels)}/{len(f.test.labels)} images ({held_out}); renders: "
        f"{0 if f.renders is None else len(f.renders.labels)} at {synthetic['size']} px from "
        f"graph <code>{html.escape(synthetic['graph'])}</code>; seeds {spec['seeds']}"
        f"{'; heads also trained on the mirrored real photos' if spec['mirror'] and not tuned else ''}"
        f"; label smoothing {spec['label_smoothing']:g}"
        f"; {_weights_line(spec, f.mixing)}</p>",
    ]


def _weights_line(spec: dict[str, Any], mixing: dict[float, float]) -> str:
    """How much of each batch of a mixed run were renders: the study file's share, or the mixing step's
    choice per real share."""
    if not mixing:
        return f"renders {100 * spec['synthetic_weight']:g} % of each batch of a mixed run"
    chosen = ", ".join(f"{100 * w:g} % at {100 * r:g} % real" for r, w in sorted(mixing.items()))
    return f"renders per batch of a mixed run chosen on the validation photos: {chosen}"


def _mixing(rows: pd.DataFrame, mixing: dict[float, float]) -> str:
    """The mixing step's validation accuracy of each (real share, share of renders per batch), the chosen
    share in bold; 0 % is the photos alone."""
    table = rows.groupby(["real_fraction", "synthetic_weight"]).accuracy.mean().unstack()
    head = "".join(f"<th>{100 * w:g} %</th>" for w in table.columns)
    body = []
    for fraction, values in table.iterrows():
        cells = []
        for weight, v in values.items():
            text = "-" if np.isnan(v) else f"{100 * v:.1f}"
            cells.append(f"<td><b>{text}</b></td>" if mixing.get(fraction) == weight else f"<td>{text}</td>")
        body.append(f"<tr><th>{100 * float(fraction):g} % real</th>{''.join(cells)}</tr>")
    return (
        "<section id='mixing'><h2>Share of renders per batch, chosen on validation photos</h2>"
        "<p>Mean accuracy on the real validation photos (never the scored ones) of merged runs with each "
        "share of renders per batch; 0 % trains on the photos alone. The later steps' mixed runs use the "
        "share in bold; where it is 0 %, renders are left out at that real share.</p>"
        f"<table><tr><th></th>{head}</tr>{''.join(body)}</table></section>"
    )


def _headlines(h: dict[str, Any], scored: str) -> str:
    cards = [
        ("zero-shot (synthetic only)", _pct(h.get("zero_shot_accuracy"))),
        ("100 % real", _pct(h.get("real_100_accuracy"))),
    ]
    if "real_10_plus_synthetic" in h:
        cards.append(("10 % real + synthetic", _pct(h["real_10_plus_synthetic"]["accuracy"])))
    if "best_mix" in h:
        b = h["best_mix"]
        cards.append(
            (
                f"best mix ({b['real_fraction']:.0%} real + {b['synthetic_per_class']}/class)",
                _pct(b["accuracy"]),
            )
        )
    if "smallest_matching_real_fraction" in h:
        m = h["smallest_matching_real_fraction"]
        cards.append(("smallest real share matching 100 % real", f"{m['real_fraction']:.0%}"))
    return (
        "<section id='headlines'><h2>Headline numbers</h2><div class='cards'>"
        + "".join(f"<div class='card'><b>{v}</b>{html.escape(k)}</div>" for k, v in cards)
        + "</div>"
        f"<p>Accuracy on the real {scored} photos (mean over seeds).</p></section>"
    )


def _baseline(t: pd.DataFrame, h: dict[str, Any], scored: str) -> str:
    """Accuracy curves over the real share: photos only, fine-tuned and merged; zero-shot as a line."""
    fig, ax = plt.subplots(figsize=(7, 4))
    _curve(ax, t[t.step == "baseline"], "real_fraction", "real only")
    for mode in ("finetune", "merged"):
        _curve(
            ax,
            t[t.step == f"finetune:{mode}"],
            "real_fraction",
            {"finetune": "synthetic, then real (fine-tune)", "merged": "real + synthetic (merged)"}[mode],
            "s",
        )
    if "zero_shot_accuracy" in h:
        ax.axhline(h["zero_shot_accuracy"], color="grey", ls="--", label="zero-shot")
    ax.set_xlabel("real training data used (%)")
    ax.set_ylabel(f"{scored} accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return (
        "<section id='baseline'><h2>Accuracy against the share of real data</h2>"
        "<p>Shaded: 95 % interval over seeds.</p>" + figure_img(fig) + "</section>"
    )


def _epochs(fit: dict[str, Any], epochs: dict[str, Any]) -> str:
    fig, ax = plt.subplots(figsize=(5, 3))
    xs, ys = zip(*fit["points"], strict=True)
    ax.scatter(xs, ys)
    line = np.linspace(0, max(xs), 20)
    ax.plot(line, fit["intercept"] + fit["slope"] * line, color="C1")
    ax.set_xlabel("training images")
    ax.set_ylabel("best epoch")
    return (
        f"<section id='epochs'><h2>Best epoch against training-set size</h2><p>Fit: epochs = "
        f"{fit['intercept']:.1f} + {fit['slope']:.4f} x images; later runs take their epochs "
        f"from it, {epochs['min_epochs']}-{epochs['max_epochs']}; runs with renders train at most "
        f"{epochs['max_steps']} optimiser steps (thousands of renders: a few epochs)."
        "</p>" + figure_img(fig) + "</section>"
    )


def _runs(folder: Path, keys: pd.Series) -> list[pd.Series]:
    """The runs' own records (runs/KEY.json): confusion matrices and per-class recall."""
    return [pd.read_json(folder / "runs" / f"{k}.json", typ="series") for k in keys]


def _zero_shot(zs: pd.DataFrame, f: StudyFindings) -> str:
    runs = _runs(f.folder, zs.run)
    cm = np.sum([np.asarray(r["confusion"]) for r in runs], axis=0)
    absent = _absent(f)
    held = [c for c in f.spec["classes"] if c not in absent]
    # the classes with test photos only (runs of earlier versions also hold 0 for an absent class)
    recall = pd.DataFrame([r["per_class_recall"] for r in runs]).mean().reindex(held)
    rows = "".join(f"<tr><th>{html.escape(c)}</th><td>{_pct(v)}</td></tr>" for c, v in recall.items())
    over = f" (mean recall over the {len(held)} classes with test photos)" if absent else ""
    return (
        "<section id='zero-shot'><h2>Zero-shot: trained on renders only</h2>"
        f"<p>Accuracy {_pct(float(zs.accuracy.mean()))}, balanced "
        f"{_pct(float(zs.balanced_accuracy.mean()))}{over}. "
        + describe("none" if f.spec.get("mode") == "finetune" else f.spec["align"])
        + "</p><table><tr><th>class</th><th>recall</th></tr>"
        f"{rows}</table>" + _confusion(cm, f.spec["classes"], "zero-shot confusion (counts)") + "</section>"
    )


def _real_confusion(real_full: pd.DataFrame, f: StudyFindings) -> str:
    cm = np.sum([np.asarray(r["confusion"]) for r in _runs(f.folder, real_full.run)], axis=0)
    return (
        "<section id='real-confusion'><h2>100 % real: confusion</h2>"
        + _confusion(cm, f.spec["classes"], "real-only confusion (counts)")
        + "</section>"
    )


def _grid(grid: pd.DataFrame) -> str:
    """Mean accuracy of every (real share, renders per class) cell as a heat map."""
    table = grid.groupby(["real_fraction", "synthetic_per_class"]).accuracy.mean().unstack()
    fig, ax = plt.subplots(figsize=(1.5 + 1.1 * table.shape[1], 1.2 + 0.5 * table.shape[0]))
    ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            v = table.iat[i, j]
            ax.text(j, i, "-" if np.isnan(v) else f"{100 * v:.1f}", ha="center", va="center", color="white")
    ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
    ax.set_yticks(range(table.shape[0]), [f"{100 * f:.0f} %" for f in table.index])
    ax.set_xlabel("renders per class")
    ax.set_ylabel("real training data")
    return (
        "<section id='grid'><h2>Real share x synthetic amount (accuracy %)</h2>"
        + figure_img(fig)
        + "</section>"
    )


def _failure(failure: dict[str, Any], folder: Path) -> str:
    # a class without test photos keeps its KID (training photos against renders), but has no mistakes
    rows = "".join(
        f"<tr><th>{html.escape(c)}</th><td>{v['kid']:.4f}</td>"
        + (
            f"<td>{v['wrong']}/{v['test_images']}</td><td>{html.escape(str(v['confused_with'] or '-'))}</td>"
            if v["test_images"]
            else "<td colspan='2'>not in the test set</td>"
        )
        + "</tr>"
        for c, v in failure["classes"].items()
    )
    items = "".join(f"<li>{html.escape(s)}</li>" for s in failure["suggestions"])
    grids = "".join(
        f"<h3>{html.escape(c)}: mistakes (first column) beside their nearest renders</h3>"
        + png_img((folder / "failure" / v["mistakes_grid"]).read_bytes(), f"{c} mistakes")
        for c, v in failure["classes"].items()
        if v["mistakes_grid"]
    )
    return (
        "<section id='failure'><h2>Failure analysis (zero-shot model)</h2><p>KID: kernel "
        "distance between real and rendered backbone features of a class (lower is closer).</p>"
        "<table><tr><th>class</th><th>KID</th><th>wrong</th><th>mostly taken for</th></tr>"
        f"{rows}</table><h3>What to change in the graph</h3><ul>{items}</ul>{grids}</section>"
    )


def write_report(f: StudyFindings, path: Path) -> None:
    """report.html: the sections the study's results hold, in reading order."""
    t, h, scored = f.table, f.headlines, _scored(f.spec)
    parts = _setup(f)
    parts.append(_absent_note(f))
    parts.append(_headlines(h, scored))
    parts.append(_baseline(t, h, scored))
    if f.epoch_fit.get("points"):
        parts.append(_epochs(f.epoch_fit, f.spec["epochs"]))
    zs = t[t.step == "zero_shot"]
    if len(zs):
        parts.append(_zero_shot(zs, f))
    mixing = t[t.step == "mixing"]
    if len(mixing):
        parts.append(_mixing(mixing, f.mixing))
    real_full = t[
        (t.real_fraction == 1.0) & (t.synthetic_per_class == 0) & ~t.step.isin(["epochs", "mixing"])
    ].drop_duplicates("run")
    if len(real_full):
        parts.append(_real_confusion(real_full, f))
    grid = t[t.step == "grid"]
    if len(grid):
        parts.append(_grid(grid))
    if f.hard_photos is not None:
        parts.append(_hard_photos(f.hard_photos, len(f.test.labels), scored))
    if f.renders is not None:
        parts.append(
            "<section id='examples'><h2>Real and synthetic, per class</h2>"
            + _examples(f.spec["classes"], f.train, f.renders)
            + "</section>"
        )
    if f.failure:
        parts.append(_failure(f.failure, f.folder))
    if f.ablations is not None:
        parts.append(section(f.ablations))
    parts.append(
        "<section id='table'><h2>All runs</h2>"
        + t.drop(columns=["run"]).round(4).to_html(index=False)
        + "</section>"
    )
    write_text_atomic(path, html_page(f"feint study {f.spec['name']}", parts))
