"""Beer bottles: amber, green or flint glass with a crown cap, a body label and often a neck label.

Shapes of the common bottles: the 330 ml longneck (about 0.23 m), the squat stubby and steinie, and the
taller 500 ml euro bottle; the shoulder is an S-curve into a long neck.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.bottles import BottleBuilder, register_bottle
from feint.assets.bottles import common as C
from feint.assets.bottles.body import build_bottle
from feint.assets.ships import sampling as S

VARIANTS = ("longneck", "stubby", "steinie", "euro")
#: height to the mouth (m), body radius (m), body top and neck start as shares of the height
SHAPES = {
    "longneck": ((0.225, 0.240), (0.0295, 0.0315), (0.48, 0.55), (0.68, 0.73)),
    "stubby": ((0.175, 0.190), (0.0320, 0.0340), (0.58, 0.64), (0.78, 0.82)),
    "steinie": ((0.190, 0.205), (0.0310, 0.0330), (0.55, 0.60), (0.72, 0.76)),
    "euro": ((0.245, 0.258), (0.0335, 0.0355), (0.52, 0.57), (0.70, 0.74)),
}


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    heights, radii, body_top, neck_start = SHAPES[variant]
    h, r = S.uniform(rng, *heights), S.uniform(rng, *radii)
    zb, zn = S.uniform(rng, *body_top) * h, S.uniform(rng, *neck_start) * h
    neck = S.uniform(rng, 0.0115, 0.0135)
    profile = [
        [0.0, 0.92 * r],
        [0.006, r],
        [zb, r],
        [zn, neck * 1.08],
        *C.neck_finish(h, neck, neck * 1.15, 0.008),
    ]
    _, glass = C.tint(rng, C.GLASS, {"amber": 0.35, "brown": 0.25, "green": 0.3, "flint": 0.1})
    _, beer = C.tint(rng, C.LIQUID, {"lager": 0.65, "amber_ale": 0.2, "stout": 0.15})
    lab0 = S.uniform(rng, 0.12, 0.22) * h
    lab1 = min(lab0 + S.uniform(rng, 0.28, 0.38) * h, zb)
    labels = [C.label(rng, lab0, lab1, S.uniform(rng, 0.3, 0.55))]
    n0 = zn + S.uniform(rng, 0.005, 0.02)
    n1 = min(n0 + S.uniform(rng, 0.025, 0.045), h - 0.02)
    if S.chance(rng, 0.6) and n1 - n0 > 0.015:  # neck label, wrapped all round or on the front only
        labels.append(C.label(rng, n0, n1, 1.0 if S.chance(rng, 0.5) else 0.45))
    closure = C.cap("crown", 0.0065, neck * 1.15 + 0.0015, C.pick_color(rng, C.METAL_CAP), "metal")
    return C.bottle(variant, profile, "glass", glass, labels, closure, beer, 0.003, 0.92, zb, rng)


register_bottle(BottleBuilder(name="beer", variants=VARIANTS, sample=sample, build=build_bottle))
