"""The run folder both backends (torchvision and YOLO) write: created, or checked before a resume;
data.csv and its fingerprinted rows; the checkpoint format.

It lives apart from train.py so that the YOLO backend shares these files' rules without importing the
torchvision training loop.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from feint.detection.data import BoxedImages
from feint.detection.types import CHECKPOINT_FORMAT, DetectConfig
from feint.io import write_text_atomic
from feint.run_folder import prepare_run_folder, read_checkpoint

# Fields that may change between a run and its resumption (they do not change the numbers); "mlflow" is
# in the config.json of runs made when the MLflow store was a field of the run.
RESUME_FREE = ("progress", "device", "out", "workers", "mlflow")


def load_checkpoint(path: Path) -> dict[str, Any]:
    """A torchvision run's best.pt or last.pt; a clear error for a missing or foreign file."""
    return read_checkpoint(path, CHECKPOINT_FORMAT, "detector", "a `feint detect train` run")


def prepare_folder(cfg: DetectConfig, resume: bool) -> dict[str, Any] | None:
    """Create the run folder, or check that it is this run's to resume; returns last.pt if resuming."""
    last = prepare_run_folder(Path(cfg.out), asdict(cfg), resume, RESUME_FREE)
    return load_checkpoint(last) if last is not None else None


def data_rows(
    train: BoxedImages, val: BoxedImages | None
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]]]:
    """data.csv's rows (file, box count, source, group, part) and the fingerprinted ones (file, part,
    source, every box with its class)."""
    rows, keyed = [], []
    for part, images in (("train", train), ("val", val)):
        if images is None:
            continue
        for p, boxes, labels, s, g in zip(
            images.paths, images.boxes, images.labels, images.sources, images.groups, strict=True
        ):
            rows.append({"file": str(p), "boxes": len(labels), "source": s, "group": g, "part": part})
            objects = [
                [images.classes[k], *(round(float(v), 3) for v in b)]
                for b, k in zip(boxes.tolist(), labels.tolist(), strict=True)
            ]
            keyed.append((str(p), part, s, sorted(objects)))
    return rows, keyed


def write_data_table(out: Path, rows: list[dict[str, Any]]) -> None:
    """data.csv: every image the run uses and its part."""
    import pandas as pd

    write_text_atomic(out / "data.csv", pd.DataFrame(rows).to_csv(index=False, lineterminator="\n"))
