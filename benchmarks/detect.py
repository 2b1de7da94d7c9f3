"""Detection throughput: training and inference images/s of the default detector (Faster R-CNN, mobilenet_v2).

Run on demand: `.venv/bin/python benchmarks/detect.py [--images 64] [--size 320] [--batch 4] [--threads N]
[-o benchmarks/results/detect.json]`.

(a) Training: `feint detect train` (decode + resize + flip in the loader -> forward and backward of the
    detector -> SGD step), its own images/s of the second epoch (the first warms up), with the images
    decoded in the main process (--workers 0) and in 2 worker processes (--workers 2).
(b) Inference: `load_detector(run).detect(...)` over the same images, decoding included, at batch 1 and
    at the training batch, best of two passes.

The data: generated photo-sized (640x426) JPEGs, one to three hull-like boxes each on a noisy sea and sky,
two classes; the numbers measure the machine, not the model (it trains for two epochs only).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, ImageDraw

from feint.detection import DetectConfig, train_detector
from feint.detection.runs import load_detector
from feint.run_folder import versions

CLASSES = ("tug", "sailboat")


def generated_coco(root: Path, n: int, size: tuple[int, int] = (640, 426)) -> Path:
    """`n` JPEGs with COCO annotations.json: 1-3 coloured boxes per image on a noisy background."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    images: list[dict[str, Any]] = []
    annotations: list[dict[str, Any]] = []
    w, h = size
    for i in range(n):
        pixels = rng.normal(110, 35, (h, w, 3)).clip(0, 255).astype(np.uint8)
        img = Image.fromarray(pixels)
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(1, 4))):
            k = int(rng.integers(0, 2))
            bw, bh = int(rng.integers(40, 200)), int(rng.integers(20, 90))
            x, y = int(rng.integers(0, w - bw)), int(rng.integers(h // 3, h - bh))
            draw.rectangle([x, y, x + bw - 1, y + bh - 1], fill=(60 + 120 * k, 200 - 100 * k, 90))
            annotations.append(
                {
                    "id": len(annotations) + 1,
                    "image_id": i + 1,
                    "category_id": k + 1,
                    "bbox": [x, y, bw, bh],
                    "area": bw * bh,
                    "iscrowd": 0,
                }
            )
        img.save(root / "images" / f"{i}.jpg", quality=90)
        images.append({"id": i + 1, "file_name": f"images/{i}.jpg", "width": w, "height": h})
    (root / "annotations.json").write_text(
        json.dumps(
            {
                "images": images,
                "annotations": annotations,
                "categories": [{"id": k + 1, "name": c} for k, c in enumerate(CLASSES)],
            }
        )
    )
    return root


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def train_rate(data: Path, out: Path, size: int, batch: int, workers: int) -> dict[str, Any]:
    train_detector(
        DetectConfig(
            data=str(data), out=str(out), size=size, batch=batch, epochs=2, workers=workers, progress=False
        )
    )
    history = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return {
        "workers": workers,
        "images_per_second_per_epoch": [h["images_per_second"] for h in history],
        "images_per_second": history[-1]["images_per_second"],
    }


def inference_rate(run: Path, paths: list[Path], batch: int) -> float:
    detector = load_detector(run)
    best = 0.0
    for _ in range(2):
        started = time.perf_counter()
        detector.detect(paths, batch=batch)
        best = max(best, len(paths) / (time.perf_counter() - started))
    return round(best, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=64, help="generated images")
    parser.add_argument("--size", type=int, default=320, help="longer image side the detector sees")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("-o", "--out", default="benchmarks/results/detect.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = Path(tempfile.mkdtemp(prefix="feint-bench-detect-"))
    try:
        load_before = load()
        data = generated_coco(root / "data", args.images)
        train = [train_rate(data, root / f"run-w{w}", args.size, args.batch, w) for w in (0, 2)]
        for t in train:
            print(f"train, {t['workers']} workers: {t['images_per_second']} images/s", flush=True)
        paths = sorted((data / "images").iterdir())
        infer = {f"batch_{b}": inference_rate(root / "run-w0", paths, b) for b in (1, args.batch)}
        print(f"inference: {infer} images/s", flush=True)
        results = {
            "machine": {
                "cpus": os.cpu_count(),
                "torch_threads": torch.get_num_threads(),
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "load_average_before": load_before,
                "load_average_after": load(),
            },
            "versions": versions(),
            "data": f"{args.images} generated 640x426 JPEGs, 1-3 boxes each, 2 classes",
            "model": "fasterrcnn on mobilenet_v2 (two-level FPN), SGD",
            "size": args.size,
            "batch": args.batch,
            "train": train,
            "inference_images_per_second": infer,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
