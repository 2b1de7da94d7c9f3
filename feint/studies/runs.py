"""One study run: a head trained on a chosen mix of cached features (in a study with `mode: finetune`,
the backbone and head trained on the images: feint/studies/finetuned.py), scored on the real test set.

A run is identified by everything that determines its result (`RunConfig`); its result is a JSON file
named by the hash of that config, so a killed study resumes by skipping the files already there and
a run shared by two steps (100 % real in the baseline and in the grid) is trained once.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from feint.io import write_json_atomic
from feint.studies.data import StudyData


@dataclass(frozen=True)
class RunConfig:
    real_fraction: float
    synthetic_per_class: int
    mode: str  # "merged" (real + synthetic together) or "finetune" (synthetic first, then real)
    seed: int
    epochs: int
    lr: float
    hidden: int
    synthetic_weight: float
    validate: bool = False  # pick the best epoch on real validation (the epochs step only)
    data: str = ""  # fingerprint of the study data (classes, splits, backbone, size, renders)
    align: str = "none"  # auto | match | centre | none (feint/training/align.py, `align_domains`)
    mirror: bool = False  # also train on the mirrored real photos' features (`Part.mirrored`)
    label_smoothing: float = 0.1  # of the head's cross-entropy (`HeadConfig`)
    # The study's training mode (`mode` above is the recipe): "frozen", a head on cached features, or
    # "finetune", backbone and head trained on the images (feint/studies/finetuned.py), `batch` images a
    # step, `epochs` and `lr` above being the fine-tuning's. A frozen run's record and key leave both out,
    # so they are what they were before fine-tuning runs existed. Where the run trains (CPU or GPU) is not
    # part of it: the same run on either device is the same experiment (`StudyData.device`).
    training: str = "frozen"
    batch: int = 0

    def record(self) -> dict[str, Any]:
        """The config as a run's result and the results table hold it."""
        data = asdict(self)
        if self.training == "frozen":
            del data["training"], data["batch"]
        return data

    def key(self) -> str:
        return hashlib.sha1(json.dumps(self.record(), sort_keys=True).encode()).hexdigest()[:16]


def renders_left_out(mode: str, n_real: int, weight: float) -> bool:
    """A merged run with photos whose share of renders per batch is 0: at its real share the mixing step
    found the photos alone beat the default share beyond the validation photos' noise, so it trains on
    its photos alone."""
    return mode == "merged" and n_real > 0 and weight == 0


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def execute(cfg: RunConfig, data: StudyData) -> dict[str, Any]:
    """Train what the config describes (a head on features, or with `training` "finetune" the backbone
    too) on `data.device`; return metrics on the real test set."""
    from feint.studies.finetuned import finetuned_predictions

    real_idx = data.real_subset(cfg.real_fraction, cfg.seed) if cfg.real_fraction > 0 else np.zeros(0, int)
    left_out = renders_left_out(cfg.mode, len(real_idx), cfg.synthetic_weight)
    syn_idx = data.synthetic_subset(0 if left_out else cfg.synthetic_per_class)
    train = finetuned_predictions if cfg.training == "finetune" else _head_predictions
    pred, best_epoch = train(cfg, data, real_idx, syn_idx)
    n_classes = len(data.classes)
    truth = data.test.labels
    cm = confusion(truth, pred, n_classes)
    # a separate test set may lack some classes (`StudyData.test_classes_absent`): recall, and its mean,
    # only over the classes it holds; the confusion matrix keeps every class (an absent one's row is zero,
    # its column counts the photos taken for it)
    present = cm.sum(1) > 0
    recall = np.diag(cm) / np.maximum(cm.sum(1), 1)
    return {
        "config": cfg.record(),
        "n_real": int(len(real_idx)),
        "n_synthetic": int(len(syn_idx)),
        "accuracy": float((pred == truth).mean()),
        "balanced_accuracy": float(recall[present].mean()),
        "per_class_recall": {
            c: float(r) for c, r, held in zip(data.classes, recall, present, strict=True) if held
        },
        "classes": list(data.classes),  # the rows and columns of `confusion`
        "confusion": cm.tolist(),
        "best_epoch": int(best_epoch),
        "correct": (pred == truth).astype(int).tolist(),
        "predicted": pred.tolist(),
    }


def _head_predictions(
    cfg: RunConfig, data: StudyData, real_idx: np.ndarray, syn_idx: np.ndarray
) -> tuple[np.ndarray, int]:
    """A frozen run: heads on the cached features (aligned as the config says) of the photos `real_idx`
    and the renders `syn_idx`; their predictions on the test photos and the best epoch."""
    from feint.studies.data import align_domains
    from feint.training.align import alignment_of
    from feint.training.head import HeadConfig, train_head

    data = align_domains(data, alignment_of(cfg.align), photos_trained=cfg.real_fraction > 0)
    on: dict[str, Any] = {} if data.device == "cpu" else {"device": data.device}
    n_classes = len(data.classes)
    head_cfg = HeadConfig(
        epochs=cfg.epochs, lr=cfg.lr, hidden=cfg.hidden, label_smoothing=cfg.label_smoothing, seed=cfg.seed
    )
    val = (data.val.features, data.val.labels) if cfg.validate else None
    syn = data.synthetic if len(syn_idx) else None  # None: a run without renders
    real_x, real_y = data.train.features[real_idx], data.train.labels[real_idx]
    if cfg.mirror and data.train.mirrored is not None:
        real_x = np.concatenate([real_x, data.train.mirrored[real_idx]])
        real_y = np.concatenate([real_y, real_y])
    if cfg.mode == "finetune" and syn is not None and len(real_idx):
        first = train_head(syn.features[syn_idx], syn.labels[syn_idx], n_classes, head_cfg, **on)
        result = train_head(
            real_x,
            real_y,
            n_classes,
            replace(head_cfg, lr=cfg.lr / 2),
            val=val,
            head=first.head,
            **on,
        )
    else:
        feats = [real_x] + ([syn.features[syn_idx]] if syn is not None else [])
        labels = [real_y] + ([syn.labels[syn_idx]] if syn is not None else [])
        sources = ["real"] * len(real_x) + ["synthetic"] * len(syn_idx)
        mix = (
            {"real": 1 - cfg.synthetic_weight, "synthetic": cfg.synthetic_weight}
            if len(real_idx) and len(syn_idx)
            else None
        )
        result = train_head(
            np.concatenate(feats),
            np.concatenate(labels),
            n_classes,
            head_cfg,
            val=val,
            sources=sources,
            mix=mix,
            **on,
        )
    return result.predict_proba(data.test.features).argmax(1), result.best_epoch


# Called with each run just trained (not with one read from disk): the study's progress and tracker.
RunLog = Callable[[RunConfig, dict[str, Any]], None]


class RunStore:
    """Run results on disk, one JSON per config key: the resume log of a study."""

    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def get_or_run(self, cfg: RunConfig, data: StudyData, log: RunLog | None = None) -> dict[str, Any]:
        path = self.folder / f"{cfg.key()}.json"
        if path.exists():
            return json.loads(path.read_text())
        result = execute(cfg, data)
        self._save(cfg, result, log)
        return result

    def get_or_run_many(
        self, cfgs: list[RunConfig], data: StudyData, log: RunLog | None = None, address: str | None = None
    ) -> list[dict[str, Any]]:
        """`get_or_run` for each config, the missing runs (each once) executed as Ray tasks side by side;
        each result is saved as it arrives, so an interrupted step resumes from the finished ones."""
        from feint.distributed.runs import run_on_ray

        results: dict[str, dict[str, Any]] = {}
        missing: dict[str, RunConfig] = {}
        for cfg in cfgs:
            path = self.folder / f"{cfg.key()}.json"
            if path.exists():
                results[cfg.key()] = json.loads(path.read_text())
            else:
                missing[cfg.key()] = cfg
        # Ray's tasks take one CPU each, no GPU: they train there whatever device this process has
        on_ray = replace(data, device="cpu")
        for cfg, result in run_on_ray(
            execute, list(missing.values()), on_ray, _run_name, "run the study again to resume", address
        ):
            self._save(cfg, result, log)
            results[cfg.key()] = result
        return [results[cfg.key()] for cfg in cfgs]

    def _save(self, cfg: RunConfig, result: dict[str, Any], log: RunLog | None) -> None:
        write_json_atomic(self.folder / f"{cfg.key()}.json", result, indent=None)
        if log is not None:
            log(cfg, result)


def _run_name(cfg: RunConfig) -> str:
    return f"study run {cfg.key()}"
