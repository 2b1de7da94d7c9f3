"""Still-water bottles: thin clear or blue-tinted PET, 0.2 to 0.35 m, a domed shoulder, a support ring
under a short screw neck, often ribbed or waisted for grip, a wrap-around film label."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.bottles import BottleBuilder, register_bottle
from feint.assets.bottles import common as C
from feint.assets.bottles.body import build_bottle
from feint.assets.ships import sampling as S

VARIANTS = ("small", "standard", "sport", "large")
#: height to the mouth (m), body radius (m)
SHAPES = {
    "small": ((0.195, 0.215), (0.0285, 0.0300)),
    "standard": ((0.215, 0.235), (0.0320, 0.0340)),
    "sport": ((0.240, 0.260), (0.0360, 0.0380)),
    "large": ((0.300, 0.335), (0.0430, 0.0460)),
}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    heights, radii = SHAPES[variant]
    h, r = S.uniform(rng, *heights), S.uniform(rng, *radii)
    neck, zb = S.uniform(rng, 0.0125, 0.0135), S.uniform(rng, 0.6, 0.72) * h
    waist = S.chance(rng, 0.3)
    body = [[0.45 * zb, 0.9 * r], [0.6 * zb, r]] if waist else []
    profile = [
        [0.0, 0.86 * r],
        [0.012, r],
        *body,
        [zb, r],
        [h - 0.024, neck * 1.05],
        [h - 0.021, neck * 1.35],  # support ring
        [h - 0.019, neck],
        [h, neck],
    ]
    _, pet = C.tint(rng, C.PET, {"clear": 0.6, "blue": 0.4})
    band = S.uniform(rng, 0.05, 0.1)
    lab0 = S.uniform(rng, 0.3, 0.5) * zb
    labels = [C.label(rng, lab0, min(lab0 + band, zb - 0.005), 1.0)]
    ribs = C.no_ribs()
    if S.chance(rng, 0.6):
        z0 = S.uniform(rng, 0.05, 0.15) * h
        ribs = {"count": S.integer(rng, 4, 10), "depth": S.uniform(rng, 0.02, 0.05), "z0": z0, "z1": zb}
    closure = C.cap("screw", S.uniform(rng, 0.012, 0.02), neck * 1.2, C.pick_color(rng, C.CLOSURE), "plastic")
    water = C.color(C.LIQUID["water"])
    fill = S.uniform(rng, 0.85, 0.97)
    return C.bottle(variant, profile, "pet", pet, labels, closure, water, 0.0015, fill, zb, rng, ribs=ribs)


register_bottle(BottleBuilder(name="water", variants=VARIANTS, sample=sample, build=build_bottle))
