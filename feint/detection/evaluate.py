"""COCO detection metrics (pycocotools) and `evaluate_detector(run, data)`, the `feint detect eval` work.

`coco_results` turns `Detections` into COCO results (predict.py writes them too, and training validates
with them). `coco_scores` is the metric itself, on plain COCO dicts: mAP@0.5:0.95 (the mean over IoU 0.5,
0.55 ... 0.95 and over classes), mAP@0.5, AP per class, and each class's precision at COCO's 101 recall
points (IoU 0.5) for the precision-recall figure. Classes without ground-truth boxes are left out of the means
(COCO's rule) and report AP None. `class_agnostic` maps every class to one ('object'): "is there a ship
here", whatever the model thinks its type is.

`evaluate_detector` writes metrics.json, detections.json (COCO results), ground_truth.json (the COCO
ground truth they refer to) and pr_curves.png into RUN/detect-eval-<data>[-split].
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feint.detection import runs
from feint.detection.data import from_dataset
from feint.detection.plots import plot_pr_curves
from feint.detection.types import Detections
from feint.errors import FeintError

AGNOSTIC = "object"


Coco = dict[str, Any]


def coco_results(found: Sequence[Detections], image_ids: Sequence[int] | None = None) -> list[Coco]:
    """COCO results: one {image_id, category_id (class index + 1), bbox [x, y, w, h], score} per box."""
    rows = []
    for k, d in enumerate(found):
        image_id = image_ids[k] if image_ids is not None else k + 1
        for (x0, y0, x1, y1), score, label in zip(
            d.boxes.tolist(), d.scores.tolist(), d.labels.tolist(), strict=True
        ):
            rows.append(
                {
                    "image_id": image_id,
                    "category_id": int(label) + 1,
                    "bbox": [round(x0, 2), round(y0, 2), round(x1 - x0, 2), round(y1 - y0, 2)],
                    "score": round(float(score), 5),
                }
            )
    return rows


def _agnostic(gt: Coco, results: list[Coco]) -> tuple[Coco, list[Coco]]:
    gt = {
        **gt,
        "categories": [{"id": 1, "name": AGNOSTIC}],
        "annotations": [{**a, "category_id": 1} for a in gt["annotations"]],
    }
    return gt, [{**r, "category_id": 1} for r in results]


def coco_scores(gt: Coco, results: list[Coco], class_agnostic: bool = False) -> dict[str, Any]:
    """mAP@0.5:0.95, mAP@0.5, per-class AP and PR curves of COCO results against a COCO ground truth."""
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if class_agnostic:
        gt, results = _agnostic(gt, results)
    gt = {**gt, "annotations": [{**a, "id": k + 1} for k, a in enumerate(gt["annotations"])]}
    categories = sorted(gt["categories"], key=lambda c: c["id"])
    counts = {c["id"]: 0 for c in categories}
    for a in gt["annotations"]:
        counts[a["category_id"]] += 1
    recall = np.linspace(0.0, 1.0, 101)
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        truth = COCO()
        truth.dataset = gt
        truth.createIndex()
        if results:
            found = truth.loadRes(results)
            run = COCOeval(truth, found, "bbox")
            run.evaluate()
            run.accumulate()
            # precision[iou, recall, class, area 'all', maxDets 100]; -1 where a class has no ground truth
            precision = run.eval["precision"][:, :, :, 0, -1]
        else:  # pycocotools cannot load an empty result list; no detections: precision 0 everywhere
            precision = np.where(np.array([counts[c["id"]] for c in categories]) > 0, 0.0, -1.0)
            precision = np.broadcast_to(precision, (10, len(recall), len(categories)))
    per_class, curves = [], {}
    for k, cat in enumerate(categories):
        p = precision[:, :, k]
        has_truth = bool((p > -1).all())
        per_class.append(
            {
                "class": cat["name"],
                "ap": float(p.mean()) if has_truth else None,
                "ap50": float(p[0].mean()) if has_truth else None,
                "gt_boxes": counts[cat["id"]],
                "detections": sum(r["category_id"] == cat["id"] for r in results),
            }
        )
        if has_truth:
            curves[cat["name"]] = p[0].tolist()
    scored = [r for r in per_class if r["ap"] is not None]
    return {
        "map": float(np.mean([r["ap"] for r in scored])) if scored else None,
        "map50": float(np.mean([r["ap50"] for r in scored])) if scored else None,
        "per_class": per_class,
        "images": len(gt["images"]),
        "gt_boxes": len(gt["annotations"]),
        "detections": len(results),
        "class_agnostic": class_agnostic,
        "pr_curves": {"recall": recall.tolist(), "iou": 0.5, "precision": curves},
    }


def evaluate_detector(
    run_path: str | Path,
    data: str | Path,
    split: str | None = None,
    out: str | Path | None = None,
    fmt: str | None = None,
    class_agnostic: bool = False,
    classes: Sequence[str] | None = None,
    batch: int = 4,
    workers: int = 0,
    device: str = "cpu",
    progress: bool = False,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Score the run on a labelled dataset (its `split`; by default the test split when it has one); the
    report goes to `out` (default RUN/detect-eval-<data>[-split]; an earlier one only with `overwrite`)."""
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes
    from feint.io import write_json_atomic
    from feint.outputs import Inputs, check_folder_output, folder_output, run_files, write_output_card

    run = runs.load_detector(run_path)
    dataset = load_dataset(Path(data), fmt)
    if split is None and "test" in dataset.splits:
        split = "test"
    out = Path(out) if out else run.path / f"detect-eval-{Path(data).name}{'-' + split if split else ''}"
    protected = Inputs.of_datasets([data], [dataset]) + run_files(run.path)
    check_folder_output(out, protected, overwrite)
    if split:
        dataset = dataset.split(split)
    if classes:
        dataset = keep_classes(dataset, list(classes))
    where = f"{data}{f' (split {split})' if split else ''}"
    unknown = sorted({c for r in dataset.records for c in r.box_labels} - set(run.classes))
    if unknown and not class_agnostic:
        raise FeintError(
            f"{where}: class {unknown[0]!r} is unknown to the model {run.path} (its classes: "
            f"{', '.join(run.classes)}); evaluate the shared classes with --classes, or any "
            "class as 'object' with --class-agnostic"
        )
    # Class-agnostic: the data keeps its own class ids; coco_scores maps them and the model's all to one.
    images = from_dataset(dataset, dataset.classes if class_agnostic else run.classes, where)
    found = run.detect(
        images.paths, images.sizes, batch=batch, workers=workers, device=device, progress=progress
    )
    gt, results = images.coco(), coco_results(found)
    result = coco_scores(gt, results, class_agnostic)
    result.update(
        {
            "run": str(run.path),
            "data": str(data),
            "split": split,
            "model_classes": run.classes,
            "size": run.size,
        }
    )
    with folder_output(out, protected, overwrite) as tmp:
        write_json_atomic(tmp / "ground_truth.json", gt, indent=None)
        write_json_atomic(tmp / "detections.json", results, indent=None)
        write_json_atomic(tmp / "metrics.json", result)
        plot_pr_curves(
            result["pr_curves"],
            tmp / "pr_curves.png",
            f"{run.path.name} on {Path(data).name}{' (' + split + ')' if split else ''}",
        )
        write_output_card(tmp, "detect eval", {"run": str(run.path), "data": str(data), "split": split})
    result["out"] = str(out)
    return result
