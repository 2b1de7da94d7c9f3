"""Soft-drink bottles: PET with the five-lobed petaloid base that carbonated drinks need, 0.25 to 0.35 m,
clear or green, filled with a coloured drink (cola, orange, lemon-lime, berry), a wrap label and a
screw cap; the contour variant has the waisted, bulging body of classic cola bottles."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.bottles import BottleBuilder, register_bottle
from feint.assets.bottles import common as C
from feint.assets.bottles.body import build_bottle
from feint.assets.ships import sampling as S

VARIANTS = ("half_litre", "litre", "two_litre", "contour")
#: height to the mouth (m), body radius (m)
SHAPES = {
    "half_litre": ((0.245, 0.262), (0.0320, 0.0340)),
    "litre": ((0.285, 0.305), (0.0400, 0.0420)),
    "two_litre": ((0.325, 0.345), (0.0520, 0.0550)),
    "contour": ((0.245, 0.258), (0.0330, 0.0345)),
}
DRINKS = {"cola": 0.45, "orange": 0.2, "lemon": 0.2, "berry": 0.15}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    heights, radii = SHAPES[variant]
    h, r = S.uniform(rng, *heights), S.uniform(rng, *radii)
    neck, zb = S.uniform(rng, 0.0125, 0.0135), S.uniform(rng, 0.55, 0.66) * h
    feet = 0.045 * r / 0.034  # height of the petaloid lobes
    if variant == "contour":  # bulge, waist, bulge
        body = [[0.3 * zb, 1.0 * r], [0.55 * zb, 0.86 * r], [0.85 * zb, 1.0 * r], [zb, 0.97 * r]]
    else:
        body = [[zb, r]]
    profile = [
        [0.0, 0.55 * r],
        [0.4 * feet, 0.92 * r],
        [feet, r],
        *body,
        [h - 0.024, neck * 1.05],
        [h - 0.021, neck * 1.35],  # support ring
        [h - 0.019, neck],
        [h, neck],
    ]
    pet_name, pet = C.tint(rng, C.PET, {"clear": 0.75, "green": 0.25})
    _, drink = C.tint(rng, C.LIQUID, {"lemon": 1.0} if pet_name == "green" else DRINKS)
    lab0 = S.uniform(rng, 0.25, 0.45) * zb + feet
    labels = [C.label(rng, lab0, min(lab0 + S.uniform(rng, 0.06, 0.1), zb), 1.0, accent_share=0.35)]
    petaloid = {"feet": 5, "depth": S.uniform(rng, 0.18, 0.28), "height": feet}
    closure = C.cap(
        "screw", S.uniform(rng, 0.014, 0.018), neck * 1.2, C.pick_color(rng, C.CLOSURE), "plastic"
    )
    fill = S.uniform(rng, 0.85, 0.95)
    return C.bottle(
        variant, profile, "pet", pet, labels, closure, drink, 0.0015, fill, zb, rng, petaloid=petaloid
    )


register_bottle(BottleBuilder(name="soda", variants=VARIANTS, sample=sample, build=build_bottle))
