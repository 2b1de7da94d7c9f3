"""Opaque plastic bottles: blow-moulded HDPE as for detergent, shampoo, milk and cleaners (without
handles), 0.15 to 0.3 m, round, oval or rounded-square bodies, a wide neck under a flip-top or screw cap,
a front label. Nothing inside shows, so they carry no liquid."""

from __future__ import annotations

from typing import Any

import numpy as np

from feint.assets.bottles import BottleBuilder, register_bottle
from feint.assets.bottles import common as C
from feint.assets.bottles.body import build_bottle
from feint.assets.ships import sampling as S

VARIANTS = ("round", "oval", "square")


def sample(rng: np.random.Generator, variant: str | None = None) -> dict[str, Any]:
    variant = S.variant_of(rng, variant, VARIANTS)
    h = S.uniform(rng, 0.15, 0.29)
    r = S.uniform(rng, 0.028, 0.045) * (1.15 if variant == "oval" else 0.92 if variant == "square" else 1.0)
    neck = S.uniform(rng, 0.012, 0.019)
    zb = S.uniform(rng, 0.62, 0.8) * h
    zn = min(zb + S.uniform(rng, 0.25, 0.6) * (h - zb), h - 0.016)
    profile = [
        [0.0, 0.88 * r],
        [0.01, r],
        [zb, r],
        [zn, neck * 1.05],
        *C.neck_finish(h, neck, neck * 1.12, 0.01),
    ]
    section = None
    if variant != "round":  # oval: narrow across x, so the front label sits on a broad face
        aspect = S.uniform(rng, 0.5, 0.75) if variant == "oval" else S.uniform(rng, 3.0, 5.0)
        section = {"kind": variant, "aspect": aspect, "top": zb, "fade": zn - zb}
    body = C.pick_color(rng, C.HDPE)
    arc = 1.0 if S.chance(rng, 0.3) else S.uniform(rng, 0.2, 0.32)
    lab0 = S.uniform(rng, 0.12, 0.3) * zb
    labels = [C.label(rng, lab0, min(lab0 + S.uniform(rng, 0.35, 0.55) * zb, zb), arc)]
    kind = "flip" if S.chance(rng, 0.6) else "screw"
    height = S.uniform(rng, 0.018, 0.032) if kind == "flip" else S.uniform(rng, 0.015, 0.025)
    closure = C.cap(kind, height, neck * 1.15, C.pick_color(rng, C.CLOSURE), "plastic")
    shape = {"section": section} if section else {}
    return C.bottle(variant, profile, "plastic", body, labels, closure, None, 0.001, 0.0, zb, rng, **shape)


register_bottle(BottleBuilder(name="plastic", variants=VARIANTS, sample=sample, build=build_bottle))
