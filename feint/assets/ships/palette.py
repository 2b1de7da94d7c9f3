"""Paint colours of real ships, written as sRGB hex (how paint charts and photos give them) and handed
out in linear RGB (what the renderer's face colours are).

Each family lists the colours a class is actually seen in; `paint` picks one and jitters it a little in
brightness and hue so no two hulls share the exact same value.
"""

from __future__ import annotations

import numpy as np

Rgb = list[float]

FAMILIES: dict[str, tuple[str, ...]] = {
    # merchant hull topsides
    "merchant_hull": (
        "1c1c1e",
        "23262b",
        "7a1f1a",
        "9c2a20",
        "1f3a6b",
        "284e8f",
        "1f5e3a",
        "2e7d4a",
        "5a5f63",
        "7b8084",
        "b8372b",
        "0e2a4d",
    ),
    "antifouling": ("8a2a22", "a3362a", "6e2320", "b04a32", "4a2a24"),
    "boot_top": ("1a1a1a", "2b2b2b", "8a2a22"),
    "deck_steel": ("6b2e24", "5b5e5c", "4b6b4f", "7a6e5a", "8a3b2a"),
    "hatch": ("8a2f24", "5a6166", "2f5d3a", "7d7f80", "a0452a", "3b4f6b"),
    "superstructure": ("f2f2ee", "ecebe4", "e6e3d6", "f4f0e0", "d9d9d4"),
    "funnel": ("d13b2a", "1c1c1c", "f2f2ee", "e8a317", "1f3a6b", "2e7d4a", "c9c9c9"),
    "car_carrier_hull": (
        "1f3a6b",
        "2c5aa0",
        "9c2a20",
        "c23a2e",
        "1f5e3a",
        "2f8a4a",
        "5a5f63",
        "b0b4b6",
        "0e2a4d",
    ),
    "car_carrier_name": ("1f3a6b", "1c1c1c", "2c5aa0", "9c2a20", "2f8a4a", "5a5f63", "f2f2ee"),
    "car_carrier_upper": ("f2f2ee", "e8e8e2", "dcdfe0", "c9cdd0", "eaeaea"),
    "container": (
        "9c2a20",
        "b8372b",
        "6b1f1f",
        "1f3a6b",
        "2c5aa0",
        "1f5e3a",
        "2e7d4a",
        "8a8f93",
        "c9c9c4",
        "ececea",
        "d8701f",
        "e08a1e",
        "5c2330",
        "7a3b2a",
        "3f6f8f",
        "cfa32a",
    ),
    "cruise_hull": ("f4f4f0", "eeeeea", "152a4a", "1c1c22", "0e1e3a", "f0f0ec"),
    "navy_grey": ("8d9499", "7e878e", "9aa0a3", "6f777d", "a3a8aa", "868b8a"),
    "navy_deck": ("3c4043", "4a4e50", "55595b"),
    "yacht_hull": (
        "f6f6f2",
        "f0efe8",
        "f6f6f2",
        "1c2a44",
        "23262b",
        "8c1c1c",
        "c9ccce",
        "e9e2cf",
        "2f5d8a",
        "f4d21f",
    ),
    "stripe": ("1f3a6b", "c23a2e", "1c1c1c", "2f8a4a", "f4d21f", "8a8f93", "2c5aa0"),
    "sail": ("f8f8f4", "f2efe4", "eeeae0", "e6e2d2", "f8f8f4"),
    "racing_sail": ("1c1c1e", "2a2a2c", "3b3a36", "5a5246"),
    "spinnaker": ("d13b2a", "1f5fbf", "f4d21f", "2f8a4a", "f08a1e", "7a2a8a", "f2f2ee"),
    "submarine": ("111214", "17181a", "1c1d1f", "222326", "0d0e10", "2a2b2d"),
    # tugs in photos: mostly dark red or black hulls under white houses; a few blue, orange or yellow ones
    "tug_hull": ("8a1f18", "a3241c", "1c1c1e", "23262b", "1f3a6b", "a3241c", "1c1c1e", "e0701f", "5a5f63"),
    "tug_upper": ("f2f2ee", "f0e9d2", "e8e8e2", "f2f2ee", "d9d9d4", "f4d21f"),
    "lifeboat": ("f06a10", "f08a1e", "f4b41f", "e8501a"),
    "rib_tube": ("2b2b2d", "3a3a3c", "5a5f63", "e06a1a", "1f2f4a", "8a8f93"),
    "wood": ("8a5a32", "a0703f", "b88a55", "6b4426"),
    "clothes": ("d13b2a", "1f3a6b", "f2f2ee", "1c1c1c", "f4d21f", "e06a1a", "3f6f8f"),
}


def srgb_to_linear(value: str | tuple[float, float, float]) -> Rgb:
    """Hex 'rrggbb' or an sRGB triple in [0, 1] to linear RGB."""
    srgb = tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4)) if isinstance(value, str) else value
    c = np.asarray(srgb, dtype=np.float64)
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return [float(x) for x in lin]


def paint(rng: np.random.Generator, family: str, jitter: float = 0.06) -> Rgb:
    """A colour of `family` in linear RGB, brightness and tint jittered by about `jitter` (relative)."""
    options = FAMILIES[family]
    base = np.asarray(srgb_to_linear(options[int(rng.integers(len(options)))]))
    scale = 1.0 + rng.uniform(-jitter, jitter) * 2
    tint = 1.0 + rng.uniform(-jitter, jitter, size=3) * 0.5
    return [float(x) for x in np.clip(base * scale * tint, 0.0, 1.0)]


def shade(color: Rgb, factor: float) -> Rgb:
    """A darker (factor < 1) or lighter shade of a linear colour, for trims and markings."""
    return [float(min(1.0, c * factor)) for c in color]


#: Colours that carry no paint choice: glass, rubber, bare metal.
WINDOW = srgb_to_linear("14181c")
RUBBER = srgb_to_linear("141414")
DARK_METAL = srgb_to_linear("2a2c2e")
STEEL = srgb_to_linear("8a8d8f")
WHITE = srgb_to_linear("f2f2ee")
BLACK = srgb_to_linear("161616")
