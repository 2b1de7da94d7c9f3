"""Figures for the HTML reports: matplotlib without a display, and images embedded in the page (a report
is one self-contained file)."""

from __future__ import annotations

import base64
import html
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def figure_png(fig: plt.Figure) -> bytes:
    """The figure as PNG bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def figure_img(fig: plt.Figure) -> str:
    """The figure as an embedded PNG `<img>`; the figure is closed."""
    return png_img(figure_png(fig))


def png_img(data: bytes, alt: str = "figure") -> str:
    """PNG bytes as an embedded `<img>`."""
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(data).decode()}">'
