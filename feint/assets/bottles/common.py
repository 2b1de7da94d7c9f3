"""What the bottle classes share: colours of real glass, PET, drinks, labels and closures, and the draws
of labels, caps and profiles that every class makes the same way.

Glass, PET and liquid colours are per-surface transmission tints in linear RGB: light crosses two walls
of a bottle (and two of its liquid), so the colour seen through it is about the square of the tint.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.ships import sampling as S
from feint.assets.ships.palette import srgb_to_linear

GLASS: dict[str, str] = {
    "amber": "b8661a",
    "brown": "8f4a12",
    "green": "5aa04a",
    "dark_green": "2f6a2a",
    "antique_green": "6b8a3a",
    "flint": "f2f6f2",
    "blue": "3f6fc0",
}
PET: dict[str, str] = {"clear": "f4f7f7", "blue": "c6e2f5", "green": "a8dca0", "brown": "c88a50"}
LIQUID: dict[str, str] = {
    "water": "f6fafc",
    "lager": "f0b02a",
    "amber_ale": "c8641a",
    "stout": "3a1c0c",
    "cola": "7a2a10",
    "orange": "ff9a1a",
    "lemon": "e8f0b0",
    "berry": "d02a3a",
    "red_wine": "6a0a1a",
    "white_wine": "f2e6a0",
    "rose": "f4a8a0",
}
LABEL: tuple[str, ...] = (
    "f4f1e6",  # cream
    "ffffff",
    "161616",
    "c8102e",  # red
    "003a8c",  # blue
    "0a7a3a",  # green
    "f2b705",  # gold
    "e86a10",  # orange
    "6a1b5a",  # purple
    "4ab8e8",  # sky blue
    "d4c08a",  # kraft
    "2a2a2a",
)
CLOSURE: tuple[str, ...] = ("e8e8e8", "1a1a1a", "c8102e", "003a8c", "0a7a3a", "f2b705", "4ab8e8", "e86a10")
METAL_CAP: tuple[str, ...] = ("c9a227", "b8b8b8", "8a1020", "1a3a7a", "1a1a1a", "2a6a2a", "d0d0d0")
FOIL: tuple[str, ...] = ("5a0a18", "141414", "c9a227", "b8b8b8", "1a3a2a", "8a1020", "e8e0d0")
HDPE: tuple[str, ...] = (
    "f2f2ee",
    "f2f2ee",
    "2a6ad0",
    "0a8a4a",
    "f08a10",
    "f2d020",
    "e05a9a",
    "7a3ab0",
    "202020",
)


def color(hex_value: str) -> list[float]:
    return srgb_to_linear(hex_value)


def pick_color(
    rng: np.random.Generator, options: tuple[str, ...] | list[str], jitter: float = 0.05
) -> list[float]:
    """One of `options` in linear RGB, brightness jittered so no two bottles share a value."""
    base = np.asarray(color(options[int(rng.integers(len(options)))]))
    return [float(x) for x in np.clip(base * (1.0 + rng.uniform(-jitter, jitter)), 0.0, 1.0)]


def tint(
    rng: np.random.Generator, table: dict[str, str], weights: dict[str, float]
) -> tuple[str, list[float]]:
    """A named colour of `table` drawn with `weights`: (name, linear RGB)."""
    name = S.choice(rng, list(weights), list(weights.values()))
    return name, pick_color(rng, (table[name],), 0.03)


def label(
    rng: np.random.Generator, z0: float, z1: float, arc: float, accent_share: float = 0.25
) -> dict[str, Any]:
    """A paper or film label from z0 to z1 over `arc` of the circumference, with an accent band (the
    brand stripe) in a different colour so the label reads as printed, not as a plain sleeve."""
    main = pick_color(rng, LABEL)
    accent = pick_color(rng, LABEL)
    while np.allclose(accent, main, atol=0.05):
        accent = pick_color(rng, LABEL)
    band = accent_share * (z1 - z0)
    a0 = S.uniform(rng, z0, z1 - band)
    return {
        "z0": z0,
        "z1": z1,
        "arc": arc,
        "color": main,
        "accent": accent,
        "accent_z0": a0,
        "accent_z1": a0 + band,
    }


def cap(kind: str, height: float, radius: float, col: list[float], part: str) -> dict[str, Any]:
    return {"kind": kind, "height": height, "radius": radius, "color": col, "part": part}


def no_ribs() -> dict[str, Any]:
    return {"count": 0, "depth": 0.0, "z0": 0.0, "z1": 0.0}


def no_feet() -> dict[str, Any]:
    return {"feet": 0, "depth": 0.0, "height": 1.0}


def bottle(
    variant: str,
    profile: list[list[float]],
    body_part: str,
    body_color: list[float],
    labels: list[dict[str, Any]],
    closure: dict[str, Any],
    liquid_color: list[float] | None,
    wall: float,
    fill: float,
    body_top: float,
    rng: np.random.Generator,
    **shape: Any,
) -> dict[str, Any]:
    """The full parameter dict of `body.build_bottle`, with round, smooth defaults for the shaping.
    `body_top` is where the shoulder begins (the top of a non-round section, the reach of dents)."""
    return {
        "variant": variant,
        "profile": [[float(z), float(r)] for z, r in profile],
        "section": shape.get("section", {"kind": "round", "aspect": 1.0, "top": body_top, "fade": 1.0}),
        "ribs": shape.get("ribs", no_ribs()),
        "petaloid": shape.get("petaloid", no_feet()),
        "body_part": body_part,
        "body_color": body_color,
        "labels": labels,
        "cap": closure,
        "liquid_color": liquid_color,
        "wall": wall,
        "fill": fill,
        "dent": 0.0,
        "dent_seed": S.seed(rng),
    }


def neck_finish(h: float, neck: float, lip: float, lip_height: float = 0.01) -> list[list[float]]:
    """The last knots of a profile: the neck up to the lip ring, the ring, and the mouth at height h."""
    return [[h - lip_height - 0.002, neck], [h - lip_height, lip], [h, lip]]
