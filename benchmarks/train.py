"""Training throughput: the full fine-tuning pipeline against the bare model, and a cached-feature run.

Run on demand: `.venv/bin/python benchmarks/train.py [--images 256] [--size 224] [-o benchmarks/results/train.json]`.
Targets (issue 5): full pipeline >= 0.9 x the bare model's forward/backward rate on random tensors, measured
in the same run; a cached-feature (frozen) run on 4,000 images for 30 epochs < 60 s once features exist.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from feint.training.backbones import create_backbone, get_spec
from feint.training.cache import feature_rows
from feint.training.head import HeadConfig, train_head
from feint.training.loop import LoopConfig, make_optimizer
from feint.training.model import Classifier, make_head
from feint.training.run import TrainConfig, train, versions


def make_folder(root: Path, n: int, classes: int = 4) -> Path:
    """An ImageFolder of photo-sized (320x222) random JPEGs, as ships-dev's photos are."""
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = root / f"class{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        pixels = rng.integers(0, 255, (222, 320, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"{i}.jpg", quality=90)
    return root


def bare_rate(size: int, batch: int, steps: int, classes: int = 4) -> float:
    """Images/s of forward + backward + AdamW step on random uint8 tensors already in memory."""
    spec = get_spec("efficientnet_lite0")
    backbone = create_backbone(spec, pretrained=True)
    model = Classifier(backbone, make_head(int(backbone.num_features), classes), spec.mean, spec.std)
    model.to(memory_format=torch.channels_last).train()
    optimizer = make_optimizer([{"params": list(model.parameters())}], LoopConfig())
    x = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, classes, (batch,))
    loss_fn = torch.nn.CrossEntropyLoss()
    for step in range(steps + 2):  # two warm-up steps
        if step == 2:
            started = time.perf_counter()
        loss = loss_fn(model(x), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return steps * batch / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=256, help="images in the fine-tuning measurement")
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("-o", "--out", default="benchmarks/results/train.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="feint-bench-train-"))
    os.environ["FEINT_CACHE"] = str(root / "cache")
    data = make_folder(root / "data", args.images)

    # (a) full pipeline: cached images -> augmentation -> model -> AdamW, as `feint train --mode finetune`
    cfg = TrainConfig(data=[str(data)], out=str(root / "run"), mode="finetune", epochs=2, batch=args.batch,
                      size=args.size, val=0.0, progress=False)
    train(cfg)
    history = [json.loads(line) for line in (root / "run" / "metrics.jsonl").read_text().splitlines()]
    pipeline = history[-1]["images_per_second"]  # the second epoch: caches warm
    steps = max(3, args.images // args.batch)
    bare = bare_rate(args.size, args.batch, steps)
    print(f"fine-tuning pipeline {pipeline:.1f} images/s, bare model {bare:.1f} images/s, "
          f"ratio {pipeline / bare:.2f}", flush=True)

    # (b) frozen mode: feature extraction per image, then a head on 4,000 feature vectors for 30 epochs
    paths = sorted(data.rglob("*.jpg"))
    started = time.perf_counter()
    feature_rows(paths, "efficientnet_lite0", args.size)
    extract = (time.perf_counter() - started) / len(paths)
    rng = np.random.default_rng(0)
    features = rng.normal(size=(4000, 1280)).astype(np.float32)
    labels = rng.integers(0, 10, 4000)
    started = time.perf_counter()
    train_head(features, labels, 10, HeadConfig(epochs=30))
    head_seconds = time.perf_counter() - started
    print(f"features {extract * 1000:.1f} ms/image; head on 4,000 x 30 epochs {head_seconds:.1f} s", flush=True)

    results = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "torch_threads": torch.get_num_threads()},
        "versions": versions(),
        "finetune": {"images": args.images, "size": args.size, "batch": args.batch,
                     "pipeline_images_per_second": round(pipeline, 2), "bare_images_per_second": round(bare, 2),
                     "ratio": round(pipeline / bare, 3), "target_ratio_met": pipeline / bare >= 0.9},
        "frozen": {"feature_ms_per_image": round(extract * 1000, 2), "head_images": 4000, "head_epochs": 30,
                   "head_seconds": round(head_seconds, 2), "target_met": head_seconds < 60},
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
