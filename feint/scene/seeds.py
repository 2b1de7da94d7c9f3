"""Seeds: every random choice of image `index` comes from (dataset seed, index, attempt).

Each parameter also gets its own stream keyed by its dotted name, so changing one distribution in a
graph (an ablation, a tuning trial) leaves every other sampled value of every image unchanged.
"""

from __future__ import annotations

import zlib

import numpy as np


def image_seed(dataset_seed: int, index: int, attempt: int = 0) -> int:
    """A 63-bit seed for one image (and one re-draw attempt of it), independent of worker count."""
    seq = np.random.SeedSequence(entropy=int(dataset_seed), spawn_key=(int(index), int(attempt)))
    return int(seq.generate_state(2, dtype=np.uint32).astype(np.uint64).dot([1 << 31, 1]))


def stream(seed: int, name: str) -> np.random.Generator:
    """The generator for the named parameter (or asset) of the image with this seed."""
    return np.random.default_rng(
        np.random.SeedSequence(entropy=int(seed), spawn_key=(zlib.crc32(name.encode()),))
    )
