"""The HTML report of a tuning run: how the score moved over the trials and what changed in the graph."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feint.io import write_text_atomic
from feint.reports.figures import figure_img, plt, png_img
from feint.reports.page import html_page


def _score_plot(table: pd.DataFrame, base: dict[str, Any] | None, objective: str) -> str:
    done = table[table.state == "COMPLETE"].sort_values("trial")
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.scatter(done.trial, done.score, s=18, label="trial")
    ax.step(
        done.trial,
        np.maximum.accumulate(done.score.to_numpy()),
        where="post",
        color="C1",
        label="best so far",
    )
    if base is not None:
        ax.axhline(base["score"], color="grey", ls="--", label="base graph")
    ax.set_xlabel("trial")
    ax.set_ylabel(f"{objective} score")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return figure_img(fig)


def _fmt(v: Any) -> str:
    return "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.4f}"


def _contact_sheet(folders: list[Path]) -> bytes:
    """One preview of a trial's renders, every class in it: a trial renders a folder per class."""
    from feint.datasets import load_dataset
    from feint.datasets.preview import preview_png

    loaded = [load_dataset(folder) for folder in folders]
    classes = list(dict.fromkeys(c for dataset in loaded for c in dataset.classes))
    return preview_png(loaded[0].with_records([r for d in loaded for r in d.records], classes))


def _held_out(card: dict[str, Any]) -> str:
    """How the pick was made noise-aware, and whether it beats the base graph on the held-out photos."""
    held, noise = card.get("held_out"), card.get("base_noise")
    lines = []
    if noise is not None:
        lines.append(
            f"The base graph's two render batches scored {noise:.4f} apart: a trial must beat it by more "
            "than that to be picked."
        )
    if held is not None:
        verdict = {
            None: "the base graph is the pick",
            True: "the pick beats the base graph",
            False: "the pick does <b>not</b> beat the base graph: keep the base graph",
        }[held["beats_base"]]
        lines.append(
            f"On the {held['photos']} held-out photos (no trial was scored on them; other renders): "
            f"base graph {_fmt(held['base'])}, pick {_fmt(held['best'])}: {verdict}."
        )
    return f"<p id='held-out'>{' '.join(lines)}</p>" if lines else ""


def write_tune_report(card: dict[str, Any], table: pd.DataFrame, out: Path, path: Path) -> None:
    s, base, best = card["settings"], card["base"], card["best"]
    trials = ", ".join(f"{v} {k}" for k, v in card["trials"].items())
    split = f" (split {s['split']})" if s["split"] else ""
    parts = [
        f"<h1>feint tune: {html.escape(s['graph'])}</h1>",
        f"<p class='sub'>classes: {html.escape(', '.join(s['classes']))}; real validation: "
        f"{html.escape(s['real'])}{html.escape(split)}, "
        f"{card['n_real']} images; objective {s['objective']}; {s['per_class']} renders per class at "
        f"{s['size']} px per trial (seed {s['seed']}); trials: {html.escape(trials)}</p>",
    ]
    cards = [("base graph (trial 0)", _fmt(base and base["score"]))]
    if best is not None:
        cards.append((f"best (trial {best['trial']})", _fmt(best["score"])))
        if base is not None:
            cards.append(("change", f"{best['score'] - base['score']:+.4f}"))
    parts.append(
        "<section id='scores'><h2>Score</h2><div class='cards'>"
        + "".join(f"<div class='card'><b>{v}</b>{html.escape(k)}</div>" for k, v in cards)
        + "</div>"
    )
    if base is not None and best is not None:
        rows = "".join(
            f"<tr><th>{k}</th><td>{_fmt(base[k])}</td><td>{_fmt(best[k])}</td></tr>"
            for k in ("balanced_accuracy", "accuracy", "gap")
        )
        parts.append(f"<table><tr><th></th><th>base</th><th>best</th></tr>{rows}</table>")
    if (table.state == "COMPLETE").any():
        parts.append(_score_plot(table, base, s["objective"]))
    parts.append(_held_out(card))
    parts.append("</section>")

    changed = card["changed"]
    rows = "".join(
        f"<tr><th>{html.escape(c['parameter'])}</th><td>{html.escape(c['base'])}</td>"
        f"<td>{html.escape(c['best'])}</td></tr>"
        for c in changed
    )
    parts.append(
        "<section id='changes'><h2>What changed: base graph -> best graph (best.yaml)</h2>"
        + (
            f"<table><tr><th>parameter</th><th>base</th><th>best</th></tr>{rows}</table>"
            if changed
            else "<p>Nothing: no trial scored above the graph as it is.</p>"
        )
        + "</section>"
    )

    previews = [
        (f"{name} (trial {t['trial']})", [out / "renders" / key for key in t["renders"].split()])
        for name, t in (("base graph", base), ("best graph", best))
        if t is not None and t.get("renders")
    ]
    if previews and (best is None or base is None or best["trial"] != base["trial"]):
        parts.append(
            "<section id='renders'><h2>Renders</h2>"
            + "".join(
                f"<h3>{html.escape(title)}</h3>" + png_img(_contact_sheet(folders), title)
                for title, folders in previews
                if all((folder / "annotations.json").is_file() for folder in folders)
            )
            + "</section>"
        )
    parts.append(
        "<section id='trials'><h2>All trials</h2>"
        + table.round(4).to_html(index=False, na_rep="")
        + "</section>"
    )
    write_text_atomic(path, html_page(f"feint tune {s['graph']}", parts))
