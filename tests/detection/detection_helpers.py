"""Helpers for the detection tests: tiny COCO datasets of coloured shapes on noise, with exact boxes."""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

CLASSES = ("square", "disc")
COLOURS = {"square": (220, 40, 40), "disc": (40, 80, 230)}


def make_coco(root: Path, n: int = 10, size: tuple[int, int] = (96, 72), seed: int = 0) -> Path:
    """`n` images (PNG) under root/images and root/annotations.json: one or two shapes per image, a red
    square-ish rectangle or a blue disc, one in each half of the image so that they never overlap.

    PIL fills the pixels x0..x1 and y0..y1 inclusive, so the exact COCO box is [x0, y0, x1-x0+1, y1-y0+1].
    """
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True, exist_ok=True)
    w, h = size
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for i in range(n):
        img = Image.fromarray(rng.integers(0, 80, (h, w, 3)).astype(np.uint8))
        draw = ImageDraw.Draw(img)
        halves = [0, 1] if i % 3 else [i % 2]  # two objects in most images, one in every third
        for half in halves:
            name = CLASSES[(i + half) % 2]
            side = int(rng.integers(h // 4, h // 2))
            x0 = int(rng.integers(half * w // 2, (half + 1) * w // 2 - side))
            y0 = int(rng.integers(0, h - side))
            x1, y1 = x0 + side - 1, y0 + side - 1
            (draw.rectangle if name == "square" else draw.ellipse)([x0, y0, x1, y1], fill=COLOURS[name])
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": CLASSES.index(name) + 1,
                    "bbox": [x0, y0, side, side],
                    "area": side * side,
                    "iscrowd": 0,
                }
            )
        img.save(root / "images" / f"shape-{i:03d}.png")
        images.append({"id": i + 1, "file_name": f"images/shape-{i:03d}.png", "width": w, "height": h})
    coco = {
        "images": images,
        "annotations": annotations,
        "categories": [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)],
    }
    (root / "annotations.json").write_text(json.dumps(coco))
    return root


def feint(*args: object) -> tuple[int, str, str]:
    """Run `feint ARGS` in this process through the real entry point; (exit code, stdout, stderr).

    Captures by redirecting sys.stdout/stderr, so that module-scoped fixtures can use it too.
    """
    from feint.cli import main

    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as m, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        m.setattr(sys, "argv", ["feint", *map(str, args)])
        with pytest.raises(SystemExit) as done:
            main()
    code = done.value.code
    assert isinstance(code, int), code  # main() always exits with a number
    return code, out.getvalue(), err.getvalue()


def one_error_line(code: int, out: str, err: str) -> str:
    """The single 'feint: error: ...' line of a failed command (exit code 2, no traceback)."""
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feint: error: "), err
    return lines[0]
