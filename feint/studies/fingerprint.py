"""The key of a study's data: part of every run's config, so runs on other data are never reused."""

from __future__ import annotations

import hashlib
import json

from feint.studies.data import StudyData
from feint.studies.spec import StudySpec


def fingerprint(spec: StudySpec, data: StudyData) -> str:
    """What the runs' data depends on: classes, split membership, backbone, size, renders (each by its
    class folder, keyed by graph, class, seed and size, and its file name)."""
    parts = [
        spec.classes,
        spec.backbone,
        spec.image_size,
        [str(p) for p in data.train.paths],
        [str(p) for p in data.test.paths],
        str(data.synthetic_root),
        [] if data.synthetic is None else [f"{p.parent.parent.name}/{p.name}" for p in data.synthetic.paths],
    ]
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:12]
