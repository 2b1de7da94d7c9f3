"""Two renders of the same graph, seed and size (say one on the CPU, one on a GPU): are their labels and
parameters identical, and how close are their pixels?

    .venv/bin/python benchmarks/compare_renders.py CPU_FOLDER GPU_FOLDER [-o FILE.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image


def compare(a: Path, b: Path) -> dict[str, object]:
    coco_a, coco_b = (json.loads((f / "annotations.json").read_text()) for f in (a, b))
    params_a, params_b = (pd.read_parquet(f / "params.parquet").drop(columns=["redraws"]) for f in (a, b))
    diffs = []
    for image in coco_a["images"]:
        pa = np.asarray(Image.open(a / image["file_name"]), dtype=np.float64)
        pb = np.asarray(Image.open(b / image["file_name"]), dtype=np.float64)
        diffs.append(np.abs(pa - pb).mean() if pa.shape == pb.shape else float("nan"))
    boxes = [(x["image_id"], x["category_id"], x["bbox"]) for x in coco_a["annotations"]] == [
        (x["image_id"], x["category_id"], x["bbox"]) for x in coco_b["annotations"]
    ]
    return {
        "devices": [json.loads((f / "dataset.json").read_text()).get("device") for f in (a, b)],
        "images": len(coco_a["images"]),
        "same_boxes_and_classes": boxes,
        "same_parameters": params_a.equals(params_b),
        "pixel_mean_abs_difference_0_255": {
            "mean": round(float(np.nanmean(diffs)), 3),
            "max": round(float(np.nanmax(diffs)), 3),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("-o", "--out", type=Path)
    args = parser.parse_args()
    result = compare(args.a, args.b)
    print(json.dumps(result, indent=2))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
