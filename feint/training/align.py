"""Domain alignment of frozen-backbone features: render features moved onto the photos' statistics.

A head trained on render features meets photo features that sit elsewhere in feature space (another mean,
another spread per dimension). Moving the renders' features onto the photos' per-feature statistics,
computed without labels, takes that offset away before the head sees it (CORAL's first two moments, per
dimension; AdaBN's idea for a frozen backbone). The statistics of the photos come from unlabelled photos
the model may see (a study's train and val split, `feint tune`'s validation photos), never from the test
photos. Photo features are only centred: they keep their own scale, so a head trained on photos (alone or
mixed with renders) sees them as it would without renders.

- `match`: renders centred on their mean, divided by their per-feature std and multiplied by the photos';
  photos centred on theirs. On the ships-dev validation photos it beat `centre` zero-shot by 2.5-3 points
  (ships10 and ships4, statistics of the scored photos) or 0.6 (ships4, statistics of other photos); a
  full CORAL (whitening and re-colouring with the covariances) lost 15 points: 1,280 dimensions from a
  few thousand renders make a noisy covariance.
- `centre`: each domain centred on its own mean (what feint did first). With real photos in the training
  set it beat `match` by 1-1.5 points on validation (ships4, 10 % or 100 % of the photos + renders): the
  head learns the photos' scale from their labels, and rescaling the renders only shifts their weight.
- `auto` (the default): `match` for a head trained on renders alone, `centre` when photos are in its
  training set.
- `none`: raw features.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import numpy as np
from pydantic import BeforeValidator

Alignment = Literal["auto", "match", "centre", "none"]
ALIGNMENTS: tuple[Alignment, ...] = ("auto", "match", "centre", "none")
Map = Callable[[np.ndarray], np.ndarray]


def alignment_of(value: object) -> Alignment:
    """An alignment name from a config value; true/false (older study and tune files) mean auto and
    none."""
    if value is True:
        return "auto"
    if value is False or value is None:
        return "none"
    if value in ALIGNMENTS:
        return value
    raise ValueError(f"unknown alignment {value!r}: give one of {', '.join(ALIGNMENTS)} (or true/false)")


# A config field of an alignment: also reads true/false, as older study and tune files say it.
AlignmentField = Annotated[Alignment, BeforeValidator(alignment_of)]


def describe(how: Alignment) -> str:
    """One sentence for reports: how the features of a run were aligned."""
    return {
        "auto": "Render features moved onto the real photos' per-feature mean and std for heads trained on "
        "renders alone, each domain centred on its own mean when real photos are trained on too (domain "
        "alignment; the real statistics from the unlabelled train/val photos).",
        "match": "Render features moved onto the real photos' per-feature mean and std, real features "
        "centred (domain alignment; the real statistics from the unlabelled train/val photos).",
        "centre": "Render and real features each centred on their own mean (domain alignment; the real "
        "mean from the unlabelled train/val photos).",
        "none": "No domain alignment.",
    }[how]


def aligners(
    renders: np.ndarray, photos: np.ndarray, how: Alignment, photos_trained: bool = False
) -> tuple[Map, Map]:
    """The maps for render features and for photo features, their statistics taken from `renders` and
    `photos` (unlabelled photos that may be seen: never the test set). `photos_trained`: the head also
    trains on labelled photos (what `auto` decides by)."""
    if how == "auto":
        how = "centre" if photos_trained else "match"
    if how == "none" or not len(renders) or not len(photos):
        return (lambda x: x), (lambda x: x)
    r, p = renders.astype(np.float64), photos.astype(np.float64)
    r_mean, p_mean = r.mean(0), p.mean(0)
    gain = p.std(0) / (r.std(0) + 1e-6) if how == "match" else np.ones_like(r_mean)

    def for_renders(x: np.ndarray) -> np.ndarray:
        return ((x - r_mean) * gain).astype(x.dtype)

    def for_photos(x: np.ndarray) -> np.ndarray:
        return (x - p_mean).astype(x.dtype)

    return for_renders, for_photos
