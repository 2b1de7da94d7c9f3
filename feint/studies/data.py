"""The data of a study: real train/val/test (group-disjoint), renders cached per class, features of both.

Everything downstream (the many head-training runs) works on index arrays into these feature matrices,
which is what makes hundreds of runs affordable on a CPU.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from feint.channels import DEFAULT_CHANNEL, get_channel
from feint.errors import FeintError, note
from feint.io import write_text_atomic
from feint.studies.registry import chosen_steps
from feint.studies.spec import StudySpec
from feint.training.align import Alignment, aligners
from feint.training.device import Devices


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
    synthetic_root: Path | None  # the cache's renders/ folder, which holds a render folder per class
    # What fine-tuning runs read their images at (the study's backbone and input size), and the torch
    # device every run trains on: not part of any run's key (the same run on the CPU or a GPU is the same
    # experiment, its numbers equal up to floating-point rounding).
    backbone: str = "efficientnet_lite0"
    image_size: int = 224
    device: str = "cpu"

    @property
    def test_classes_absent(self) -> list[str]:
        """The study's classes without a photo among the scored ones (a separate test set may lack some):
        per-class numbers and confusion rows are given for the others only."""
        held = set(self.test.labels.tolist())
        return [c for i, c in enumerate(self.classes) if i not in held]

    def real_subset(self, fraction: float, seed: int) -> np.ndarray:
        """Indices into `train`: a nested, class-stratified, group-aware sample (same rule as `feint data
        subsample`): for one seed the 10 % sample lies inside the 20 % one."""
        if fraction >= 1.0:
            return np.arange(len(self.train.labels))
        keep: list[int] = []
        for c in range(len(self.classes)):
            keep += whole_groups(np.flatnonzero(self.train.labels == c), self.train.groups, fraction, seed)
        return np.array(sorted(keep), dtype=np.int64)

    def synthetic_subset(self, per_class: int) -> np.ndarray:
        """The first `per_class` renders of each class (render order): smaller amounts are nested."""
        if self.synthetic is None or per_class <= 0:
            return np.zeros(0, dtype=np.int64)
        keep = [np.flatnonzero(self.synthetic.labels == c)[:per_class] for c in range(len(self.classes))]
        return np.sort(np.concatenate(keep))


def whole_groups(
    members: np.ndarray, groups: Sequence[str], share: float, seed: int, spare_last: bool = False
) -> list[int]:
    """Indices among `members` of whole groups (ships), drawn in the hash order of `group_key`, until they
    hold `share` of the members (at least one group): a larger share takes a superset, and a photo added
    later moves no other. `spare_last`: never the last group in that order (something stays behind)."""
    from feint.datasets.core import group_key

    order = sorted({groups[i] for i in members}, key=lambda g: group_key(seed, g))
    kept: list[int] = []
    for g in order[:-1] if spare_last else order:
        if kept and len(kept) >= share * len(members):
            break
        kept.extend(int(i) for i in members if groups[i] == g)
    return kept


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
    """Real data with the study's classes (after the class map), split group-disjointly if no test set.
    The real data must hold every class; a separate test set some of them (`_test_classes`)."""
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes
    from feint.datasets.split import split_dataset

    paths = [spec.real] + ([] if spec.test is None else [spec.test])
    loaded = [load_dataset(Path(path)) for path in paths]
    unmapped = [a for a in spec.class_map if not any(a in d.classes for d in loaded)]
    if unmapped:
        raise FeintError(f"class_map: {', '.join(unmapped)} not a class of {' or '.join(paths)}")

    def prepared(path: str, dataset: Any, is_test: bool):  # noqa: ANN202
        # the real data and a separate test set may name classes differently: each maps the names it has
        mapping = [(0, a, b) for a, b in spec.class_map.items() if a in dataset.classes]
        if mapping:
            from feint.datasets.select import map_classes

            dataset = map_classes(dataset, mapping, f"{path} (class_map)")
        if is_test:
            return _test_classes(spec, path, dataset)
        unknown = [c for c in spec.classes if c not in dataset.classes]
        if unknown:
            raise FeintError(
                f"{path}: classes {', '.join(unknown)} not in the data ({', '.join(sorted(dataset.classes))})"
            )
        return keep_classes(dataset, spec.classes)

    ready = [prepared(path, d, i > 0) for i, (path, d) in enumerate(zip(paths, loaded, strict=True))]
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


def _test_classes(spec: StudySpec, path: str, dataset: Any):  # noqa: ANN202 - feint.datasets.Dataset
    """A separate test set's photos of the study's classes, its class list the study's: it may lack some
    of them (a note names them; the study scores the classes it holds), not all of them."""
    from feint.datasets.select import keep_classes

    held = [c for c in spec.classes if c in dataset.classes]
    kept = keep_classes(dataset, held) if held else dataset.with_records([], held)
    present = {r.primary_class for r in kept.records} - {None}
    if not present:
        raise FeintError(
            f"{path}: the test set holds none of the study's classes ({', '.join(spec.classes)}); its "
            f"classes: {', '.join(sorted(dataset.classes)) or 'none'} (a class_map renames them)"
        )
    absent = [c for c in spec.classes if c not in present]
    if absent:
        note(
            f"{path}: no test photos of {', '.join(absent)}: the study is scored on the {len(present)} of "
            f"its {len(spec.classes)} classes the test set holds (accuracy over its photos, per-class "
            "numbers for those classes; summary.json and the report name the absent ones)"
        )
    return kept.with_records(kept.records, list(spec.classes))


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
    spec: StudySpec,
    cache: Path,
    progress: bool,
    executor: str = "local",
    address: str | None = None,
    device: str | None = None,
) -> list[Path]:
    """Render (or reuse) the render folder of each of the study's classes in the cache (see
    `render_balanced`) on the render `device`; with `executor` "ray" the images are rendered on every CPU
    (or GPU) of the Ray cluster (same bytes)."""
    from feint.graph.loader import load_graph_dict

    merged, _ = load_graph_dict(spec.synthetic.graph)
    s = spec.synthetic
    return render_balanced(
        merged,
        spec.classes,
        s.per_class,
        s.size,
        s.seed,
        cache,
        s.workers,
        None,
        progress,
        executor,
        address,
        device,
    )


def render_key(
    merged: dict[str, Any], seed: int, size: int, family: str = "cpu", asset_version: int = 1
) -> str:
    """The cache folder name of a render set: graph data, seed, size and the renderer's pixel version, and
    for renders on a GPU (`family` "gpu") that too: Cycles' GPU and CPU pixels differ a little, and a
    folder never mixes them (a resume across the two is refused). A class whose model changed
    (`asset_version` above 1, from its channel) has a key of its own, so it alone renders again. Keys of
    CPU renders of version-1 models are what they always were."""
    from feint.render.job import PIXELS_VERSION

    parts: list[Any] = [merged, seed, size, PIXELS_VERSION] + (["gpu"] if family == "gpu" else [])
    if asset_version != 1:
        parts.append({"asset_version": asset_version})
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def render_family(
    merged: dict[str, Any], device: str | None, executor: str = "local", address: str | None = None
) -> str:
    """ "cpu" or "gpu": where a render of the graph data `merged` with the render device choice `device`
    (None: the graph's render.device) runs, here or on the Ray cluster (a GPU choice renders on its GPUs
    where it has any, as feint/render/dataset.py decides)."""
    from feint.render.device import resolve_render_device

    choice = device or (merged.get("render") or {}).get("device") or "auto"
    if executor != "ray":
        return resolve_render_device(choice).family
    if choice == "cpu":
        return "cpu"
    from feint.distributed import connect

    return "gpu" if connect(address).cluster_resources().get("GPU", 0) else "cpu"


def class_seed(seed: int, name: str) -> int:
    """The render seed of class `name`'s folder for the render seed `seed`: a stable hash of the two (not
    Python's `hash`, which differs between processes), so the folders of two classes rendered with one
    seed do not share their backgrounds, sun and sea image by image."""
    digest = hashlib.sha256(json.dumps([seed, name]).encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1  # 31 bits: a seed any tool takes


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
    device: str | None = None,
) -> list[Path]:
    """Render (or reuse) one folder per class under `root/renders/`, in the order of `classes` (see
    `render_class`): any subset of classes of the same graph data, seed and size reuses what was rendered
    for any other: a four-class study after a ten-class one on the same graph with as many renders per
    class renders nothing. The classes render one after another, each with all the workers (on Ray: every
    CPU of the cluster). `device`: where Cycles renders (as `feint render --device`; None: the graph's
    render.device)."""
    if executor == "ray":
        from feint.distributed import cluster_cpus

        workers = cluster_cpus(address)
    return [
        render_class(
            merged, name, per_class, size, seed, root, workers, threads, progress, executor, address, device
        )
        for name in classes
    ]


def render_class(
    merged: dict[str, Any],
    name: str,
    per_class: int,
    size: int,
    seed: int,
    root: Path,
    workers: int = 1,
    threads: int | None = None,
    progress: bool = True,
    executor: str = "local",
    address: str | None = None,
    device: str | None = None,
) -> Path:
    """Render (or reuse) `root/renders/KEY`: the merged graph data restricted to class `name` (weight 1,
    its own overrides kept), rendered with the seed `class_seed(seed, name)` (in the folder's render.json
    and card) on the render `device`, keyed by that graph data, seed, size, the renderer's pixel version
    and, on a GPU, the device family (`render_key`, the graph beside it as KEY.graph.yaml). Extended on
    demand until it holds `per_class` labelled images: image i depends only on (seed, i), so extending is
    exact, a folder asked for fewer than it has keeps them all, and two graphs that differ in one parameter
    draw the same values for all the others. A folder of the earlier layout (one per list of classes,
    rendered with the study's seed) has another key and is simply not used."""
    import yaml

    from feint.graph import load_graph
    from feint.render.dataset import render_dataset
    from feint.render.job import RenderJob

    known = merged.get("classes", {})
    merged = {**merged, "classes": {name: {**known.get(name, {}), "weight": 1}}}
    seed = class_seed(seed, name)  # the folder's own render seed
    version = get_channel(merged.get("channel", DEFAULT_CHANNEL)).asset_version(name)
    key = render_key(merged, seed, size, render_family(merged, device, executor, address), version)
    out = root / "renders" / key
    if _labelled(out, name) >= per_class:  # nothing to render: not even the folder's files are rewritten
        return out
    out.mkdir(parents=True, exist_ok=True)
    graph_file = out.parent / f"{key}.graph.yaml"
    if not graph_file.is_file():
        write_text_atomic(graph_file, yaml.safe_dump(merged, sort_keys=False))
    graph = load_graph(graph_file)
    n = per_class
    if (out / "render.json").is_file():  # asked for more before (an extension cut short): never fewer
        n = max(n, json.loads((out / "render.json").read_text())["n"])
    for _ in range(6):  # images that failed (the ship too small after every re-draw): render more
        job = RenderJob(
            graph,
            n,
            out,
            size,
            seed,
            workers,
            True,
            executor=executor,
            address=address,
            threads=threads,
            device=device,
        )
        render_dataset(job, progress=progress)
        have = _labelled(out, name)
        if have >= per_class:
            break
        n = math.ceil(n * per_class / max(have, 1) * 1.05)
    return out


def _labelled(out: Path, name: str) -> int:
    """How many labelled images of class `name` the render folder `out` holds (0: none rendered yet)."""
    if not (out / "params.parquet").is_file():
        return 0
    table = pd.read_parquet(out / "params.parquet")
    return int((table["class"] == name).sum()) if "class" in table else 0


def first_per_class(folders: list[Path], classes: list[str], per_class: int) -> list[Any]:
    """The first `per_class` records (render order) of each class's render folder, class after class: the
    set never depends on how far a bigger study extended the folders."""
    from feint.datasets import load_dataset

    keep = []
    for folder, name in zip(folders, classes, strict=True):
        keep.extend([r for r in load_dataset(folder).records if r.primary_class == name][:per_class])
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
    device: str = "cpu",
) -> Part:
    """Records of `classes` as a `Part`: paths, labels, groups and their (cached) backbone features,
    computed on the torch `device`; `mirrored`: also the features of the mirrored images."""
    from feint.training.cache import feature_rows

    paths = [r.image for r in records]
    labels = np.array([classes.index(r.primary_class) for r in records], dtype=np.int64)
    sizes = [(r.width, r.height) for r in records]
    features = feature_rows(paths, backbone, size, cache, sizes=sizes, progress=progress, device=device)
    flipped = None
    if mirrored:
        flipped = feature_rows(
            paths, backbone, size, cache, sizes, progress=progress, device=device, mirrored=True
        )
    return Part(paths, labels, [r.group for r in records], features, meta, flipped)


def prepare(
    spec: StudySpec,
    cache: Path,
    progress: bool = True,
    executor: str = "local",
    address: str | None = None,
    devices: Devices | None = None,
) -> StudyData:
    """Load and split the real data, render the synthetic set (on `executor`, on `devices.render`),
    compute (or reuse) all features (on `devices.torch`, where the runs will train; default: renders on
    the graph's render.device, torch on the CPU)."""
    devices = devices or Devices()
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
            device=devices.torch,
        )
        for name, records in by_split.items()
    }
    synthetic, root = None, None
    if any(step.renders for step in chosen_steps(spec.steps)):
        folders = render_synthetic(spec, cache, progress, executor, address, devices.render)
        # exactly the renders asked for: a cached folder may hold more (a bigger study extended it), and
        # the alignment statistics and failure analysis must not depend on the cache's history
        records = first_per_class(folders, spec.classes, spec.synthetic.per_class)
        synthetic = labelled_part(
            records, *args, meta=pd.DataFrame([r.meta for r in records]), device=devices.torch
        )
        root = cache / "renders"
    return StudyData(
        spec.classes,
        parts["train"],
        parts["val"],
        parts["test"],
        synthetic,
        root,
        spec.backbone,
        spec.image_size,
        devices.torch,
    )
