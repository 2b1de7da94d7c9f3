"""Helpers for the training tests: tiny generated image datasets (coloured shapes on noise, PIL)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

COLOURS = {"red": (210, 40, 40), "green": (40, 190, 40), "blue": (40, 60, 220)}


def make_images(root: Path, per_class: int = 8, size: tuple[int, int] = (40, 32), seed: int = 0) -> Path:
    """An ImageFolder: one class per colour, a coloured ellipse on dark noise in every image."""
    rng = np.random.default_rng(seed)
    for name, colour in COLOURS.items():
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            noise = rng.integers(0, 70, (size[1], size[0], 3)).astype(np.uint8)
            img = Image.fromarray(noise)
            x, y = rng.integers(2, size[0] // 2), rng.integers(2, size[1] // 2)
            ImageDraw.Draw(img).ellipse([x, y, x + size[0] // 2, y + size[1] // 2], fill=colour)
            img.save(root / name / f"{name}-{i}.png")
    return root


def make_manifest(root: Path, per_class: int = 8, groups_per_class: int = 4) -> Path:
    """The same images with a manifest.csv: a group column (several photos per 'ship') and a 0/1 flag."""
    make_images(root / "images", per_class)
    lines = ["file,class,group,flag"]
    for name in COLOURS:
        for i in range(per_class):
            lines.append(f"images/{name}/{name}-{i}.png,{name},{name}-g{i % groups_per_class},{i % 2}")
    (root / "manifest.csv").write_text("\n".join(lines) + "\n")
    return root


def feint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: object
) -> tuple[int, str, str]:
    """Run `feint ARGS` in this process through the real entry point; (exit code, stdout, stderr)."""
    from feint.cli import main

    monkeypatch.setattr(sys, "argv", ["feint", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    return done.value.code, out, err
