"""Wine bottles: tall (about 0.30 m) dark-green, amber or flint glass, a capsule over the cork or a
screw cap, a big front label; the Bordeaux shape has high square shoulders, the Burgundy a long sloping
one, the Alsace/Mosel flute is slender and taller."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.bottles import BottleBuilder, register_bottle
from feint.assets.bottles import common as C
from feint.assets.bottles.body import build_bottle
from feint.assets.ships import sampling as S

VARIANTS = ("bordeaux", "burgundy", "flute")
#: height to the mouth (m), body radius (m), body top and neck start as shares of the height
SHAPES = {
    "bordeaux": ((0.290, 0.310), (0.0360, 0.0380), (0.60, 0.65), (0.74, 0.78)),
    "burgundy": ((0.285, 0.300), (0.0390, 0.0410), (0.42, 0.50), (0.74, 0.78)),
    "flute": ((0.330, 0.350), (0.0325, 0.0345), (0.42, 0.48), (0.76, 0.80)),
}
#: Glass colours and, per glass, the wines bottled in it.
GLASS = {"dark_green": 0.4, "antique_green": 0.15, "amber": 0.1, "flint": 0.25, "blue": 0.1}
WINES = {
    "dark_green": {"red_wine": 0.8, "white_wine": 0.2},
    "antique_green": {"red_wine": 0.5, "white_wine": 0.5},
    "amber": {"white_wine": 0.7, "red_wine": 0.3},
    "flint": {"white_wine": 0.5, "rose": 0.5},
    "blue": {"white_wine": 1.0},
}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    heights, radii, body_top, neck_start = SHAPES[variant]
    h, r = S.uniform(rng, *heights), S.uniform(rng, *radii)
    zb, zn = S.uniform(rng, *body_top) * h, S.uniform(rng, *neck_start) * h
    neck = S.uniform(rng, 0.0140, 0.0150)
    if variant == "bordeaux":  # square shoulders: the curve is short and high
        shoulder = [[zb, r], [zb + 0.35 * (zn - zb), 0.55 * (r + neck)], [zn, neck * 1.05]]
    else:  # one long slope from the body into the neck
        shoulder = [[zb, r], [zn, neck * 1.05]]
    profile = [[0.0, 0.94 * r], [0.008, r], *shoulder, *C.neck_finish(h, neck, neck * 1.1, 0.012)]
    glass_name, glass = C.tint(rng, C.GLASS, GLASS)
    _, wine = C.tint(rng, C.LIQUID, WINES[glass_name])
    lab0 = S.uniform(rng, 0.12, 0.2) * h
    lab1 = min(lab0 + S.uniform(rng, 0.22, 0.36) * h, zb - 0.005)
    labels = [C.label(rng, lab0, lab1, S.uniform(rng, 0.28, 0.45), accent_share=S.uniform(rng, 0.1, 0.3))]
    screw = S.chance(rng, 0.2)  # a screw cap reads as a long plain metal sleeve
    foil = ("c0c0c0", "1a1a1a") if screw else C.FOIL
    length = S.uniform(rng, 0.05 if screw else 0.035, 0.06)
    closure = C.cap("foil", length, neck, C.pick_color(rng, foil), "metal")
    return C.bottle(variant, profile, "glass", glass, labels, closure, wine, 0.004, 0.88, zb, rng)


register_bottle(BottleBuilder(name="wine", variants=VARIANTS, sample=sample, build=build_bottle))
