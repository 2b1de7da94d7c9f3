"""The cheap signals a tuning trial or an ablated graph is scored with, on cached backbone features.

- zero-shot: a frozen-backbone head trained on the renders alone (the study's zero-shot recipe, a few
  seconds), its balanced accuracy on the real photos: does the graph teach what the photos show?
- domain gap: KID (kernel MMD, polynomial kernel) between render and real features of each class,
  averaged over the classes: do the renders look like the photos to the backbone? 0 = same distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feint.errors import FeintError
from feint.graph.loader import Graph
from feint.studies.data import Part, first_per_class, labelled_part, whole_groups
from feint.training.align import Alignment, aligners

OBJECTIVES = ("zero-shot", "gap", "both")
GAP_WEIGHT = 5.0  # `both`: balanced accuracy - 5 x gap; a gap 0.01 lower is worth 5 points of accuracy


def resolve_classes(graph: Graph, dataset: Any, classes: list[str] | None, real: str | Path) -> list[str]:
    """`classes`, or all of the real data's; each must be a class of the graph and of the real data."""
    names = list(classes or dataset.classes)
    for name in names:
        if name not in graph.classes:
            raise FeintError(
                f"class {name!r} is not in graph {graph.name!r} (its classes: {', '.join(graph.classes)}); "
                "pick classes with --classes"
            )
        if name not in dataset.classes:
            raise FeintError(f"{real}: no images of class {name!r} (classes: {', '.join(dataset.classes)})")
    return names


def real_part(
    path: str | Path,
    split: str | None,
    classes: Sequence[str] | None,
    backbone: str,
    image_size: int,
    cache: Path | None = None,
    progress: bool = False,
    device: str = "cpu",
) -> tuple[Part, list[str]]:
    """Real images (any format feint reads) with their features (computed on the torch `device`), and the
    class order."""
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes

    dataset = load_dataset(Path(path), None, split)
    if classes:
        dataset = keep_classes(dataset, list(classes))
    records = [r for r in dataset.records if r.primary_class is not None]
    if not records:
        raise FeintError(f"{path}: no labelled images")
    names = list(classes) if classes else list(dataset.classes)
    return labelled_part(records, names, backbone, image_size, progress, cache=cache, device=device), names


def held_out(part: Part, share: float, seed: int, classes: Sequence[str]) -> tuple[Part, Part | None]:
    """The photos cut by group (ship) into those the trials score on and about `share` of each class's
    photos held out, for the check at the end that the pick beats the base graph on photos no trial was
    chosen by (`share` 0: all photos score the trials, no held-out part). Groups are drawn in the
    hash order of `group_key`, so a photo added later moves no other photo."""
    from dataclasses import replace

    if not share:
        return part, None
    kept: list[int] = []
    for c, name in enumerate(classes):
        idx = np.flatnonzero(part.labels == c)
        ships = len({part.groups[i] for i in idx})
        if ships < 2:
            raise FeintError(
                f"class {name!r} has {ships} group(s) (ships) among the photos: too few to hold some out of "
                "the trials (give photos of more ships, or --holdout 0)"
            )
        kept += whole_groups(idx, part.groups, share, seed, spare_last=True)  # the last scores the trials
    held = np.zeros(len(part.labels), bool)
    held[kept] = True

    def subset(mask: np.ndarray) -> Part:
        rows = np.flatnonzero(mask)
        return replace(
            part,
            paths=[part.paths[i] for i in rows],
            labels=part.labels[rows],
            groups=[part.groups[i] for i in rows],
            features=part.features[rows],
            meta=None if part.meta is None else part.meta.iloc[rows].reset_index(drop=True),
            mirrored=None if part.mirrored is None else part.mirrored[rows],
        )

    return subset(~held), subset(held)


def render_part(
    folders: list[Path],
    classes: list[str],
    per_class: int,
    backbone: str,
    image_size: int,
    cache: Path | None = None,
    device: str = "cpu",
) -> Part:
    """The first `per_class` renders of each class's render folder (`folders`, in class order), with their
    features (computed on the torch `device`)."""
    records = first_per_class(folders, classes, per_class)
    return labelled_part(records, classes, backbone, image_size, False, cache=cache, device=device)


def zero_shot(
    train: Part,
    test: Part,
    n_classes: int,
    seeds: Sequence[int] = (0, 1, 2),
    epochs: int = 30,
    align: Alignment = "auto",
    device: str = "cpu",
) -> dict[str, Any]:
    """Mean accuracy, balanced accuracy and per-class recall on `test` of heads trained on `train`
    (one head per seed: with a dozen renders per class one head is a noisy judge). `align`: the study's
    domain alignment, the renders moved onto the photos' statistics (the validation photos' labels stay
    unused; feint/training/align.py). The heads train on the torch `device`."""
    from feint.studies.runs import confusion
    from feint.training.head import HeadConfig, train_head

    for_renders, for_photos = aligners(train.features, test.features, align)
    x_train, x_test = for_renders(train.features), for_photos(test.features)
    acc, bal, recalls = [], [], []
    for seed in seeds:
        on: dict[str, Any] = {} if device == "cpu" else {"device": device}
        head = train_head(x_train, train.labels, n_classes, HeadConfig(epochs=epochs, seed=seed), **on)
        pred = head.predict_proba(x_test).argmax(1)
        cm = confusion(test.labels, pred, n_classes)
        recall = np.diag(cm) / np.maximum(cm.sum(1), 1)
        acc.append(float((pred == test.labels).mean()))
        bal.append(float(recall[cm.sum(1) > 0].mean()))
        recalls.append(recall)
    return {
        "accuracy": float(np.mean(acc)),
        "balanced_accuracy": float(np.mean(bal)),
        "per_class_recall": np.mean(recalls, axis=0).tolist(),
    }


def domain_gap(real: Part, synthetic: Part, n_classes: int) -> float:
    """Mean over classes of the KID between the class's real and rendered features (all images together
    where no class has two of each)."""
    from feint.analysis.failure import kid

    gaps = [
        kid(real.features[real.labels == c], synthetic.features[synthetic.labels == c])
        for c in range(n_classes)
    ]
    gaps = [g for g in gaps if not np.isnan(g)]
    return float(np.mean(gaps)) if gaps else kid(real.features, synthetic.features)


def objective_value(objective: str, scores: dict[str, Any]) -> float:
    """The number a trial maximises: balanced accuracy, minus the gap, or both together."""
    if objective == "zero-shot":
        return scores["balanced_accuracy"]
    if objective == "gap":
        return -scores["gap"]
    return scores["balanced_accuracy"] - GAP_WEIGHT * scores["gap"]
