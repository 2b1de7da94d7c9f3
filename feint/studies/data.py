"""The data of a study: real train/val/test (group-disjoint), renders cached by graph, features of both.

Everything downstream (the many head-training runs) works on index arrays into these feature matrices,
which is what makes hundreds of runs affordable on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feint.errors import FeintError
from feint.io import write_text_atomic
from feint.studies.registry import chosen_steps
from feint.studies.spec import StudySpec
from feint.training.align import Alignment, aligners


@dataclass
class Part:
    """Images of one role (real train, real val, real test, synthetic) with their cached features."""

    paths: list[Path]
    labels: np.ndarray
    groups: list[str]
    features: np.ndarray
    meta: pd.DataFrame | None = None  # render parameters (synthetic) or manifest columns (real)
    mirrored: np.ndarray | None = None  # features of the left-right mirrored images (real train photos)


@dataclass
class StudyData:
    classes: list[str]
    train: Part
    val: Part
    test: Part
    synthetic: Part | None
    synthetic_root: Path | None

    def real_subset(self, fraction: float, seed: int) -> np.ndarray:
        """Indices into `train`: a nested, class-stratified, group-aware sample (same rule as `feint data
        subsample`): for one seed the 10 % sample lies inside the 20 % one."""
        from feint.datasets.core import group_key

        if fraction >= 1.0:
            return np.arange(len(self.train.labels))
        keep: list[int] = []
        for c in range(len(self.classes)):
            idx = np.flatnonzero(self.train.labels == c)
            groups = sorted({self.train.groups[i] for i in idx}, key=lambda g: group_key(seed, g))
            target, total = fraction * len(idx), 0
            for g in groups:
                if total >= target and total > 0:
                    break
                members = [i for i in idx if self.train.groups[i] == g]
                keep.extend(members)
                total += len(members)
        return np.array(sorted(keep), dtype=np.int64)

    def synthetic_subset(self, per_class: int) -> np.ndarray:
        """The first `per_class` renders of each class (render order): smaller amounts are nested."""
        if self.synthetic is None or per_class <= 0:
            return np.zeros(0, dtype=np.int64)
        keep = [np.flatnonzero(self.synthetic.labels == c)[:per_class] for c in range(len(self.classes))]
        return np.sort(np.concatenate(keep))


def align_domains(data: StudyData, how: Alignment = "auto", photos_trained: bool = False) -> StudyData:
    """The data with render features aligned to the statistics of the real train and val photos and real
    features (train, val, test) centred on them, labels unused (feint/training/align.py). The offset
    between renders and photos in feature space is then no longer something the head must bridge. The
    test photos never enter the statistics. `photos_trained`: the run trains on real photos too."""
    from dataclasses import replace

    if data.synthetic is None or not len(data.synthetic.features) or how == "none":
        return data
    photos = np.concatenate([data.train.features, data.val.features])
    synthetic, real = aligners(data.synthetic.features, photos, how, photos_trained)

    def mapped(part: Part, f: Callable[[np.ndarray], np.ndarray]) -> Part:
        return replace(
            part, features=f(part.features), mirrored=None if part.mirrored is None else f(part.mirrored)
        )

    return replace(
        data,
        train=mapped(data.train, real),
        val=mapped(data.val, real),
        test=mapped(data.test, real),
        synthetic=mapped(data.synthetic, synthetic),
    )


def load_real(spec: StudySpec):  # noqa: ANN201 - feint.datasets.Dataset
    """Real data with the study's classes (after the class map), split group-disjointly if no test set."""
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes
    from feint.datasets.split import split_dataset

    paths = [spec.real] + ([] if spec.test is None else [spec.test])
    loaded = [load_dataset(Path(path)) for path in paths]
    unmapped = [a for a in spec.class_map if not any(a in d.classes for d in loaded)]
    if unmapped:
        raise FeintError(f"class_map: {', '.join(unmapped)} not a class of {' or '.join(paths)}")

    def prepared(path: str, dataset: Any):  # noqa: ANN202
        # the real data and a separate test set may name classes differently: each maps the names it has
        mapping = [(0, a, b) for a, b in spec.class_map.items() if a in dataset.classes]
        if mapping:
            from feint.datasets.select import map_classes

            dataset = map_classes(dataset, mapping, f"{path} (class_map)")
        unknown = [c for c in spec.classes if c not in dataset.classes]
        if unknown:
            raise FeintError(
                f"{path}: classes {', '.join(unknown)} not in the data ({', '.join(sorted(dataset.classes))})"
            )
        return keep_classes(dataset, spec.classes)

    ready = [prepared(path, d) for path, d in zip(paths, loaded, strict=True)]
    real = ready[0]
    if spec.test is None:
        return split_dataset(real, list(spec.split_ratios), spec.split_seed), None
    train_val = split_dataset(
        real,
        [
            spec.split_ratios[0] / sum(spec.split_ratios[:2]),
            spec.split_ratios[1] / sum(spec.split_ratios[:2]),
        ],
        spec.split_seed,
    )
    return train_val, ready[1]


def validation_halves(train: Any, seed: int) -> dict[str, list[Any]]:
    """The training split cut in two by group: runs train on one half and are scored on the other
    (`score_on: validation`), so recipes and graphs are compared without reading the test split."""
    from feint.datasets.split import split_dataset

    halves = split_dataset(train, [0.5, 0.5], seed, names=["train", "test"])
    by_half = {name: [r for r in halves.records if r.split == name] for name in ("train", "test")}
    for c in train.classes:
        if not all(any(r.primary_class == c for r in records) for records in by_half.values()):
            groups = len({r.group for r in train.records if r.primary_class == c})
            raise FeintError(
                f"{train.root}: class {c!r} has {groups} group(s) in the training split, too few to be in "
                "both validation halves (score on the test split, or add photos of other ships)"
            )
    return by_half


def render_synthetic(
    spec: StudySpec, cache: Path, progress: bool, executor: str = "local", address: str | None = None
) -> Path:
    """Render (or reuse) the study's synthetic set in the cache (see `render_balanced`); with `executor`
    "ray" the images are rendered on every CPU of the Ray cluster (same bytes)."""
    from feint.graph.loader import load_graph_dict

    merged, _ = load_graph_dict(spec.synthetic.graph)
    s = spec.synthetic
    return render_balanced(
        merged, spec.classes, s.per_class, s.size, s.seed, cache, s.workers, None, progress, executor, address
    )


def render_key(merged: dict[str, Any], seed: int, size: int) -> str:
    """The cache folder name of a render set: graph data, seed, size and the renderer's pixel version."""
    from feint.render.job import PIXELS_VERSION

    text = json.dumps([merged, seed, size, PIXELS_VERSION], sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def render_balanced(
    merged: dict[str, Any],
    classes: list[str],
    per_class: int,
    size: int,
    seed: int,
    root: Path,
    workers: int = 1,
    threads: int | None = None,
    progress: bool = True,
    executor: str = "local",
    address: str | None = None,
) -> Path:
    """Render (or reuse) `root/renders/KEY` from merged graph data restricted to `classes` (equal weights),
    keyed by graph, classes, seed, size and the renderer's pixel version (`render_key`); extended on demand
    until every class has `per_class` images (image i depends only on (seed, i), so extending is exact, and
    two graphs that differ in one parameter draw the same values for all the others)."""
    import yaml

    from feint.graph import load_graph
    from feint.render.dataset import render_dataset
    from feint.render.job import RenderJob

    known = merged.get("classes", {})
    merged = {**merged, "classes": {c: {**known.get(c, {}), "weight": 1} for c in classes}}
    key = render_key(merged, seed, size)
    out = root / "renders" / key
    out.mkdir(parents=True, exist_ok=True)
    graph_file = out.parent / f"{key}.graph.yaml"
    if not graph_file.is_file():
        write_text_atomic(graph_file, yaml.safe_dump(merged, sort_keys=False))
    graph = load_graph(graph_file)
    n = math.ceil(per_class * len(classes) * 1.15)
    if (out / "render.json").is_file():  # asked for fewer than are there: keep them all (nested prefixes)
        n = max(n, json.loads((out / "render.json").read_text())["n"])
    if executor == "ray":
        from feint.distributed import cluster_cpus

        workers = cluster_cpus(address)
    for _ in range(6):
        job = RenderJob(
            graph, n, out, size, seed, workers, True, executor=executor, address=address, threads=threads
        )
        render_dataset(job, progress=progress)
        counts = pd.read_parquet(out / "params.parquet")["class"].value_counts()
        short = min(int(counts.get(c, 0)) for c in classes)
        if short >= per_class:
            break
        n = math.ceil(n * per_class / max(short, 1) * 1.05)
    return out


def first_per_class(root: Path, classes: list[str], per_class: int) -> list[Any]:
    """The first `per_class` records of each class of a render folder, in render order."""
    from feint.datasets import load_dataset

    taken = dict.fromkeys(classes, 0)
    keep = []
    for record in load_dataset(root).records:
        c = record.primary_class
        if c in taken and taken[c] < per_class:
            taken[c] += 1
            keep.append(record)
    return keep


def labelled_part(
    records,
    classes: list[str],
    backbone: str,
    size: int,
    progress: bool,
    meta: pd.DataFrame | None = None,
    cache: Path | None = None,
    mirrored: bool = False,
) -> Part:
    """Records of `classes` as a `Part`: paths, labels, groups and their (cached) backbone features;
    `mirrored`: also the features of the mirrored images."""
    from feint.training.cache import feature_rows

    paths = [r.image for r in records]
    labels = np.array([classes.index(r.primary_class) for r in records], dtype=np.int64)
    sizes = [(r.width, r.height) for r in records]
    features = feature_rows(paths, backbone, size, cache, sizes=sizes, progress=progress)
    flipped = None
    if mirrored:
        flipped = feature_rows(paths, backbone, size, cache, sizes, progress=progress, mirrored=True)
    return Part(paths, labels, [r.group for r in records], features, meta, flipped)


def prepare(
    spec: StudySpec, cache: Path, progress: bool = True, executor: str = "local", address: str | None = None
) -> StudyData:
    """Load and split the real data, render the synthetic set (on `executor`), compute (or reuse) all
    features."""
    real, test_set = load_real(spec)
    by_split = {name: [r for r in real.records if r.split == name] for name in ("train", "val", "test")}
    if test_set is not None:
        by_split["test"] = list(test_set.records)
    if spec.score_on == "validation":
        by_split.update(validation_halves(real.with_records(by_split["train"]), spec.split_seed))
    for name, records in by_split.items():
        if not records:
            raise FeintError(f"{spec.real}: the {name} split is empty (too few groups per class?)")
    args = (spec.classes, spec.backbone, spec.image_size, progress)
    parts = {
        name: labelled_part(
            records,
            *args,
            meta=pd.DataFrame([r.meta for r in records]),
            mirrored=spec.mirror and name == "train",
        )
        for name, records in by_split.items()
    }
    synthetic, root = None, None
    if any(step.renders for step in chosen_steps(spec.steps)):
        root = render_synthetic(spec, cache, progress, executor, address)
        # exactly the renders asked for: the cached folder may hold more (a bigger study extended it), and
        # the alignment statistics and failure analysis must not depend on the cache's history
        records = first_per_class(root, spec.classes, spec.synthetic.per_class)
        synthetic = labelled_part(records, *args, meta=pd.DataFrame([r.meta for r in records]))
    return StudyData(spec.classes, parts["train"], parts["val"], parts["test"], synthetic, root)
