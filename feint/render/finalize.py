"""The files of a finished render folder, assembled from its per-image records: COCO annotations.json,
params.parquet (every sampled value), the dataset card dataset.json and preview.png."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

import feint
from feint.channels import get_channel
from feint.io import write_bytes_atomic, write_json_atomic
from feint.render.device import CPU, RenderDevice
from feint.render.job import PIXELS_VERSION, RenderJob
from feint.render.worker import record_path


def _load_records(job: RenderJob) -> list[dict[str, Any]]:
    return [json.loads(record_path(job.out, i).read_text()) for i in range(job.n)]


def finalize(job: RenderJob, seconds: float, device: RenderDevice = CPU) -> dict[str, Any]:
    """Assemble COCO annotations, the parameter table, the card and the preview from the records."""
    records = _load_records(job)
    ok = [r for r in records if not r["failed"]]
    classes = job.graph.class_names()
    category_id = {name: i + 1 for i, name in enumerate(classes)}
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    for r in ok:
        images.append(
            {
                "id": r["index"] + 1,
                "file_name": r["file_name"],
                "width": r["width"],
                "height": r["height"],
                "index": r["index"],
                "seed": r["seed"],
            }
        )
        for a in r["annotations"]:
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": r["index"] + 1,
                    "category_id": category_id[a["category"]],
                    "bbox": a["bbox"],
                    "area": a["area"],
                    "segmentation": a["segmentation"],
                    "iscrowd": 0,
                    **({"visibility": a["visibility"]} if "visibility" in a else {}),
                }
            )
    supercategory = get_channel(job.graph.channel).supercategory
    coco = {
        "info": {"description": f"feint render of graph {job.graph.name!r}", "version": feint.__version__},
        "categories": [{"id": i, "name": n, "supercategory": supercategory} for n, i in category_id.items()],
        "images": images,
        "annotations": annotations,
    }
    write_json_atomic(job.out / "annotations.json", coco, indent=None)
    table = pd.DataFrame([{**r["params"], "file_name": r["file_name"], "redraws": r["redraws"]} for r in ok])
    buf = table.to_parquet(index=False) if len(table) else pd.DataFrame().to_parquet()
    write_bytes_atomic(job.out / "params.parquet", buf)
    card = _card(job, records, ok, seconds, device)
    write_json_atomic(job.out / "dataset.json", card)
    if ok and job.sink is None:  # with a URL the images are not here: feint.distributed.storage draws it
        from feint.datasets import load_dataset
        from feint.datasets.preview import preview_png

        write_bytes_atomic(job.out / "preview.png", preview_png(load_dataset(job.out), n=24))
    return card


def _card(
    job: RenderJob,
    records: list[dict[str, Any]],
    ok: list[dict[str, Any]],
    seconds: float,
    device: RenderDevice,
) -> dict[str, Any]:
    previous = {}
    card_path = job.out / "dataset.json"
    if card_path.exists():
        previous = json.loads(card_path.read_text())
    # Labelled objects per class (one per image on the sea, one per bottle on a table).
    labels = [a["category"] for r in ok for a in r["annotations"]]
    counts = pd.Series(labels, dtype="object").value_counts().to_dict()
    return {
        "name": job.out.name,
        "graph_name": job.graph.name,
        "graph": job.graph.to_yaml(),
        "seed": job.seed,
        "size": job.size,
        "requested": job.n,
        "images": len(ok),
        "failed": len(records) - len(ok),
        "redraws": int(sum(r["redraws"] for r in ok)),
        "per_class": {c: int(counts.get(c, 0)) for c in job.graph.class_names()},
        "render_seconds_mean": float(np.mean([r["seconds"] for r in records])) if records else 0.0,
        "wall_seconds": round(previous.get("wall_seconds", 0.0) + seconds, 2),
        "versions": {
            "feint": feint.__version__,
            "blender": metadata.version("bpy"),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "pixels": PIXELS_VERSION,
        },
        "workers_last_run": job.workers,
        # where the pixels were made: the same seed gives the same bytes on the same device
        "device": device.describe(),
    }
