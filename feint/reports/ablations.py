"""The ablation table as a bar chart and a report section: what each graph feature is worth."""

from __future__ import annotations

import pandas as pd

from feint.reports.figures import figure_png, plt, png_img


def _figure(table: pd.DataFrame) -> plt.Figure:
    full = table.iloc[0]
    rows = table.iloc[1:].sort_values("drop")
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.32 * max(len(rows), 1)))
    drops = 100 * rows["drop"].to_numpy()
    ax.barh(range(len(rows)), drops, color=["C0" if d >= 0 else "C3" for d in drops])
    ax.set_yticks(
        range(len(rows)),
        [f"{f} ({s:.2f} s/img)" for f, s in zip(rows.feature, rows.render_s_per_image, strict=True)],
    )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("drop in balanced accuracy when switched off (points)")
    ax.set_title(
        f"full graph: balanced accuracy {100 * full.balanced_accuracy:.1f} %, "
        f"{full.render_s_per_image:.2f} s/img",
        fontsize=9,
    )
    ax.grid(axis="x", alpha=0.3)
    return fig


def chart_png(table: pd.DataFrame) -> bytes:
    """Bars: the drop of each feature switched off, labelled with the ablated graph's render time."""
    return figure_png(_figure(table))


def section(table: pd.DataFrame) -> str:
    """The study report's ablation section: the chart and the table."""
    return (
        "<section id='ablations'><h2>Ablations: which parts of the scene earn their render time</h2>"
        "<p>Each feature switched off in turn (same image seeds); a head trained on those renders alone is "
        "scored on the real test photos. Drop: full graph minus ablated, balanced accuracy (positive: the "
        "feature helps).</p>"
        + png_img(chart_png(table), "ablation chart")
        + table.round(4).to_html(index=False, escape=True)
        + "</section>"
    )
