"""The frame of every HTML report: one page, its style inline."""

from __future__ import annotations

import html

CSS = """body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;color:#222}
h1{margin-bottom:0}.sub{color:#666}table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f3f3f3}
.cards{display:flex;gap:1em;flex-wrap:wrap}.card{border:1px solid #ddd;border-radius:6px;padding:.6em 1em}
.card b{font-size:1.6em;display:block}img{max-width:100%}section{margin-top:2em}li{margin:.3em 0}
.absent{background:#fff4e0;border-left:4px solid #e8a33d;padding:.4em .8em}"""


def html_page(title: str, parts: list[str]) -> str:
    """The page titled `title` (escaped here) holding `parts` (HTML) in order."""
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title><style>{CSS}</style></head><body>{''.join(parts)}</body></html>"
    )
