"""One study run: a head trained on a chosen mix of cached features, scored on the real test set.

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

    def key(self) -> str:
        return hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(y_true * n + y_pred, minlength=n * n).reshape(n, n)


def execute(cfg: RunConfig, data: StudyData) -> dict[str, Any]:
    """Train the head the config describes; return metrics on the real test set."""
    from feint.studies.data import align_domains
    from feint.training.align import alignment_of
    from feint.training.head import HeadConfig, train_head

    data = align_domains(data, alignment_of(cfg.align), photos_trained=cfg.real_fraction > 0)

    real_idx = data.real_subset(cfg.real_fraction, cfg.seed) if cfg.real_fraction > 0 else np.zeros(0, int)
    syn_idx = data.synthetic_subset(cfg.synthetic_per_class)
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
        first = train_head(syn.features[syn_idx], syn.labels[syn_idx], n_classes, head_cfg)
        result = train_head(
            real_x,
            real_y,
            n_classes,
            replace(head_cfg, lr=cfg.lr / 2),
            val=val,
            head=first.head,
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
        )
    proba = result.predict_proba(data.test.features)
    pred = proba.argmax(1)
    truth = data.test.labels
    cm = confusion(truth, pred, n_classes)
    recall = np.diag(cm) / np.maximum(cm.sum(1), 1)
    return {
        "config": asdict(cfg),
        "n_real": int(len(real_idx)),
        "n_synthetic": int(len(syn_idx)),
        "accuracy": float((pred == truth).mean()),
        "balanced_accuracy": float(recall[cm.sum(1) > 0].mean()),
        "per_class_recall": {c: float(r) for c, r in zip(data.classes, recall, strict=True)},
        "confusion": cm.tolist(),
        "best_epoch": int(result.best_epoch),
        "correct": (pred == truth).astype(int).tolist(),
        "predicted": pred.tolist(),
    }


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
        for cfg, result in run_on_ray(
            execute, list(missing.values()), data, _run_name, "run the study again to resume", address
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
