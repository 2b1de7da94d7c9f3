"""The HTML report of a study: one self-contained file (figures embedded), readable at a glance."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from PIL import Image  # noqa: E402

from feint.io import write_text_atomic  # noqa: E402
from feint.training.align import describe  # noqa: E402

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{margin-bottom:0}.sub{color:#666}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.card b{font-size:1.6em;display:block}img{max-width:100%}section{margin-top:2em}li{margin:.3em 0}"""


def _png(fig: plt.Figure) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return _img(buf.getvalue())


def _img(data: bytes, alt: str = "figure") -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'


def _curve(ax: plt.Axes, rows: pd.DataFrame, x: str, label: str, marker: str = "o") -> None:
    from feint.studies.study import interval

    stats = [(v, *interval(g.accuracy.to_numpy())) for v, g in rows.groupby(x)]
    if not stats:
        return
    xs, means, lows, highs = map(np.array, zip(*stats, strict=True))
    ax.plot(xs * (100 if x == "real_fraction" else 1), means, marker=marker, label=label)
    ax.fill_between(xs * (100 if x == "real_fraction" else 1), lows, highs, alpha=0.2)


def _confusion(cm: np.ndarray, classes: list[str], title: str) -> str:
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * len(classes), 1.0 + 0.5 * len(classes)))
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(classes)):
        for j in range(len(classes)):
            ax.text(
                j,
                i,
                f"{cm[i, j]}",
                ha="center",
                va="center",
                fontsize=8,
                color="white" if norm[i, j] > 0.6 else "black",
            )
    ax.set_xticks(range(len(classes)), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(classes)), classes, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    return _png(fig)


def _examples(data: Any, per_class: int = 5, tile: tuple[int, int] = (120, 83)) -> str:
    """Per class: a row of real training photos, then a row of renders."""
    rows = []
    for c, name in enumerate(data.classes):
        real = [data.train.paths[i] for i in np.flatnonzero(data.train.labels == c)[:per_class]]
        syn = (
            [data.synthetic.paths[i] for i in np.flatnonzero(data.synthetic.labels == c)[:per_class]]
            if data.synthetic is not None
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
    return f"<p>Rows, top to bottom: {html.escape(names)}. Left: real photos; right: renders.</p>" + _img(
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
        + _img(contact_sheet(photos.head(shown)), "photos most runs miss")
        + "</section>"
    )


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f} %"


def write_report(result: Any, data: Any, path: Path) -> None:
    t = result.table
    spec = result.spec
    h = result.headlines
    validation = spec.score_on == "validation"
    scored = "held-out validation" if validation else "test"
    if validation:
        held_out = "held-out half of the training split; the test split is not used"
    elif spec.test:
        held_out = f"train/val group-disjoint; test: {html.escape(Path(spec.test).name)}, a separate set"
    else:
        held_out = "group-disjoint"
    parts = [
        f"<h1>feint study: {html.escape(spec.name)}</h1>",
        f"<p class='sub'>classes: {html.escape(', '.join(spec.classes))}; backbone {spec.backbone} "
        f"({spec.mode} features, {spec.image_size} px); real train/val/{scored}: {len(data.train.labels)}/"
        f"{len(data.val.labels)}/{len(data.test.labels)} images ({held_out}); renders: "
        f"{0 if data.synthetic is None else len(data.synthetic.labels)} at {spec.synthetic.size} px from "
        f"graph <code>{html.escape(spec.synthetic.graph)}</code>; seeds {spec.seeds}"
        f"{'; heads also trained on the mirrored real photos' if spec.mirror else ''}"
        f"; label smoothing {spec.label_smoothing:g}"
        f"; renders {100 * spec.synthetic_weight:g} % of each batch of a mixed run</p>",
    ]
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
    parts.append(
        "<section id='headlines'><h2>Headline numbers</h2><div class='cards'>"
        + "".join(f"<div class='card'><b>{v}</b>{html.escape(k)}</div>" for k, v in cards)
        + "</div>"
        f"<p>Accuracy on the real {scored} photos (mean over seeds).</p></section>"
    )

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
    parts.append(
        "<section id='baseline'><h2>Accuracy against the share of real data</h2>"
        "<p>Shaded: 95 % interval over seeds.</p>" + _png(fig) + "</section>"
    )

    fit = result.epoch_fit
    if fit.get("points"):
        fig, ax = plt.subplots(figsize=(5, 3))
        xs, ys = zip(*fit["points"], strict=True)
        ax.scatter(xs, ys)
        line = np.linspace(0, max(xs), 20)
        ax.plot(line, fit["intercept"] + fit["slope"] * line, color="C1")
        ax.set_xlabel("training images")
        ax.set_ylabel("best epoch")
        parts.append(
            f"<section id='epochs'><h2>Best epoch against training-set size</h2><p>Fit: epochs = "
            f"{fit['intercept']:.1f} + {fit['slope']:.4f} x images; later runs take their epochs "
            f"from it, {spec.epochs.min_epochs}-{spec.epochs.max_epochs}; runs with renders train at most "
            f"{spec.epochs.max_steps} optimiser steps (thousands of renders: a few epochs)."
            "</p>" + _png(fig) + "</section>"
        )

    zs = t[t.step == "zero_shot"]
    if len(zs):
        runs = [pd.read_json(result.out / "runs" / f"{k}.json", typ="series") for k in zs.run]
        cm = np.sum([np.asarray(r["confusion"]) for r in runs], axis=0)
        recall = pd.DataFrame([r["per_class_recall"] for r in runs]).mean()
        rows = "".join(f"<tr><th>{html.escape(c)}</th><td>{_pct(v)}</td></tr>" for c, v in recall.items())
        parts.append(
            "<section id='zero-shot'><h2>Zero-shot: trained on renders only</h2>"
            f"<p>Accuracy {_pct(float(zs.accuracy.mean()))}, balanced "
            f"{_pct(float(zs.balanced_accuracy.mean()))}. "
            + describe(spec.align)
            + "</p><table><tr><th>class</th><th>recall</th></tr>"
            f"{rows}</table>" + _confusion(cm, spec.classes, "zero-shot confusion (counts)") + "</section>"
        )

    real_full = t[
        (t.real_fraction == 1.0) & (t.synthetic_per_class == 0) & (t.step != "epochs")
    ].drop_duplicates("run")
    if len(real_full):
        runs = [pd.read_json(result.out / "runs" / f"{k}.json", typ="series") for k in real_full.run]
        cm = np.sum([np.asarray(r["confusion"]) for r in runs], axis=0)
        parts.append(
            "<section id='real-confusion'><h2>100 % real: confusion</h2>"
            + _confusion(cm, spec.classes, "real-only confusion (counts)")
            + "</section>"
        )

    grid = t[t.step == "grid"]
    if len(grid):
        table = grid.groupby(["real_fraction", "synthetic_per_class"]).accuracy.mean().unstack()
        fig, ax = plt.subplots(figsize=(1.5 + 1.1 * table.shape[1], 1.2 + 0.5 * table.shape[0]))
        ax.imshow(table.to_numpy(), cmap="viridis", aspect="auto")
        for i in range(table.shape[0]):
            for j in range(table.shape[1]):
                v = table.iat[i, j]
                ax.text(
                    j, i, "-" if np.isnan(v) else f"{100 * v:.1f}", ha="center", va="center", color="white"
                )
        ax.set_xticks(range(table.shape[1]), [str(c) for c in table.columns])
        ax.set_yticks(range(table.shape[0]), [f"{100 * f:.0f} %" for f in table.index])
        ax.set_xlabel("renders per class")
        ax.set_ylabel("real training data")
        parts.append(
            "<section id='grid'><h2>Real share x synthetic amount (accuracy %)</h2>"
            + _png(fig)
            + "</section>"
        )

    if result.hard_photos is not None:
        parts.append(_hard_photos(result.hard_photos, len(data.test.labels), scored))

    if data.synthetic is not None:
        parts.append(
            "<section id='examples'><h2>Real and synthetic, per class</h2>" + _examples(data) + "</section>"
        )

    failure = result.failure
    if failure:
        rows = "".join(
            f"<tr><th>{html.escape(c)}</th><td>{v['kid']:.4f}</td><td>{v['wrong']}/{v['test_images']}</td>"
            f"<td>{html.escape(str(v['confused_with'] or '-'))}</td></tr>"
            for c, v in failure["classes"].items()
        )
        items = "".join(f"<li>{html.escape(s)}</li>" for s in failure["suggestions"])
        grids = "".join(
            f"<h3>{html.escape(c)}: mistakes (first column) beside their nearest renders</h3>"
            + _img((result.out / "failure" / v["mistakes_grid"]).read_bytes(), f"{c} mistakes")
            for c, v in failure["classes"].items()
            if v["mistakes_grid"]
        )
        parts.append(
            "<section id='failure'><h2>Failure analysis (zero-shot model)</h2><p>KID: kernel "
            "distance between real and rendered backbone features of a class (lower is closer).</p>"
            "<table><tr><th>class</th><th>KID</th><th>wrong</th><th>mostly taken for</th></tr>"
            f"{rows}</table><h3>What to change in the graph</h3><ul>{items}</ul>{grids}</section>"
        )

    if result.ablations is not None:
        from feint.reports.ablations import section

        parts.append(section(result.ablations))

    parts.append(
        "<section id='table'><h2>All runs</h2>"
        + t.drop(columns=["run"]).round(4).to_html(index=False)
        + "</section>"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>feint study {html.escape(spec.name)}"
        f"</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
    )
    write_text_atomic(path, page)
