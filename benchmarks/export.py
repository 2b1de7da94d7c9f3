"""Exported models: images/s of PyTorch against ONNX Runtime on this CPU, and how closely they agree.

Run on demand: `.venv/bin/python benchmarks/export.py [--data DIR] [--images 32] [--threads 1,2]
[-o benchmarks/results/export.json]`.

Two runs are made on generated data (the speed does not depend on what the weights learnt): a classifier
(efficientnet_lite0 at 224 px, frozen mode, so that it trains in seconds: its export holds the whole
backbone, as a fine-tuned run's does) and the default detector (Faster R-CNN on mobilenet_v2, 320 px, one
epoch). Both are exported to ONNX with `export_run`, as `feint export` does.

(a) Classifier: the model alone, PyTorch (eval, inference mode, channels-last: as `feint predict` runs a
    run) against the ONNX Runtime session (CPUExecutionProvider), on the same uint8 batches already
    decoded, at batch 1 and batch 16.
(b) Detector: one image per call (the exported graph takes one), 320 px on the longer side, PyTorch's
    model against the session, on the same decoded images.
Each rate is the best of `--repeats` passes over the images after an untimed warm-up pass (as timeit takes
the minimum: on a shared 2-core machine other processes only ever slow a measurement down), the two engines
taking turns pass by pass. Both get the same number of threads, 1 and then 2 (`--threads`): with other
jobs on the two cores, torch's two OpenMP threads wait on each other and one thread can be the faster.

Agreement: on the photos of `--data` (default: $FEINT_REAL_DATA/ships-dev, else the generated images),
the largest difference of class probabilities, and of matched box corners (pixels) and scores with the
share of boxes matched (equal scores at the 100-box cut may keep different boxes).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from detect import generated_coco  # noqa: E402 - the detection benchmark's generated photos
from train import generated_folder  # noqa: E402 - the training benchmark's generated photos

from feint.deploy import export_run  # noqa: E402
from feint.deploy.export import match_boxes  # noqa: E402
from feint.deploy.runtime import open_exported  # noqa: E402
from feint.detection import DetectConfig, train_detector  # noqa: E402
from feint.detection.data import load_image  # noqa: E402
from feint.detection.runs import load_detector  # noqa: E402
from feint.evaluation.runs import load_run  # noqa: E402
from feint.run_folder import versions  # noqa: E402
from feint.training.cache import image_rows  # noqa: E402
from feint.training.run import TrainConfig, train  # noqa: E402

CLASSIFIER_SIZE = 224
DETECTOR_SIZE = 320


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def best_rates(
    steps: dict[str, Callable[[Any], Any]], inputs: list[Any], per_input: int, repeats: int
) -> dict[str, float]:
    """Images/s of each step over `inputs` (each holding `per_input` images): the best of `repeats` passes
    after one untimed pass, the steps taking turns pass by pass so that both see the same load."""
    for step in steps.values():
        for x in inputs:
            step(x)
    best = dict.fromkeys(steps, 0.0)
    for _ in range(repeats):
        for name, step in steps.items():
            started = time.perf_counter()
            for x in inputs:
                step(x)
            best[name] = max(best[name], per_input * len(inputs) / (time.perf_counter() - started))
    rates = {name: round(rate, 2) for name, rate in best.items()}
    return {**rates, "speedup": round(rates["onnxruntime"] / rates["pytorch"], 2)}


def classifier_module(run: Path) -> torch.nn.Module:
    """The run's classifier in PyTorch as `feint predict` runs it: backbone + head, then softmax."""
    from feint.training.backbones import create_backbone
    from feint.training.model import Classifier, make_head

    loaded = load_run(run)
    head = make_head(
        loaded.checkpoint["head"]["width"], len(loaded.classes), loaded.checkpoint["head"]["hidden"]
    )
    head.load_state_dict(loaded.checkpoint["state"]["head"])
    model = Classifier(create_backbone(loaded.spec), head, loaded.spec.mean, loaded.spec.std).eval()
    return model.to(memory_format=torch.channels_last)


def classifier_benchmark(
    run: Path, model_file: Path, photos: list[Path], args: argparse.Namespace
) -> dict[str, Any]:
    model = classifier_module(run)
    pixels = np.asarray(image_rows(photos, CLASSIFIER_SIZE)).transpose(0, 3, 1, 2)  # the stretch rule
    rates: dict[str, Any] = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        session = open_exported(model_file, threads=threads).session
        for batch in (1, 16):
            chunks = [
                np.ascontiguousarray(pixels[i : i + batch]) for i in range(0, len(pixels) - batch + 1, batch)
            ]

            def torch_step(x: np.ndarray) -> None:
                with torch.inference_mode():
                    torch.softmax(model(torch.from_numpy(x).contiguous(memory_format=torch.channels_last)), 1)

            def onnx_step(x: np.ndarray, session: Any = session) -> None:
                session.run(None, {"images": x})

            steps = {"pytorch": torch_step, "onnxruntime": onnx_step}
            rates[f"threads_{threads}_batch_{batch}"] = found = best_rates(steps, chunks, batch, args.repeats)
            print(f"(a) classifier, {threads} threads, batch {batch}: {found} images/s", flush=True)
    expected = load_run(run).predict_proba(photos)
    got = open_exported(model_file).predict_proba(photos)
    return {
        "model": f"efficientnet_lite0 + linear head, {CLASSIFIER_SIZE} px, uint8 NCHW in, probabilities out",
        "images": len(photos),
        "images_per_second": rates,
        "agreement": {
            "photos": len(photos),
            "max_abs_probability_difference": float(np.abs(got - expected).max()),
            "same_top1": float(np.mean(got.argmax(1) == expected.argmax(1))),
        },
    }


def detector_benchmark(
    run: Path, model_file: Path, photos: list[Path], args: argparse.Namespace
) -> dict[str, Any]:
    model = load_detector(run).model.eval()
    images = [load_image(p, DETECTOR_SIZE)[0].transpose(2, 0, 1).copy() for p in photos]

    def torch_step(x: np.ndarray) -> None:
        with torch.inference_mode():
            model([torch.from_numpy(x).float().div_(255)])

    rates: dict[str, Any] = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        session = open_exported(model_file, threads=threads).session

        def onnx_step(x: np.ndarray, session: Any = session) -> None:
            session.run(None, {"image": x})

        steps = {"pytorch": torch_step, "onnxruntime": onnx_step}
        rates[f"threads_{threads}_batch_1"] = found = best_rates(steps, images, 1, args.repeats)
        print(f"(b) detector, {threads} threads, batch 1: {found} images/s", flush=True)
    session = open_exported(model_file).session
    worst, shares = 0.0, []
    for x in images:
        with torch.inference_mode():
            found = model([torch.from_numpy(x).float().div_(255)])[0]
        ours = [found["boxes"].numpy(), found["labels"].numpy() - 1, found["scores"].numpy()]
        difference, share = match_boxes(ours, session.run(None, {"image": x}))
        worst, shares = max(worst, difference), [*shares, share]
    return {
        "model": f"fasterrcnn on mobilenet_v2, {DETECTOR_SIZE} px longer side, one uint8 CHW image per call",
        "images": len(images),
        "images_per_second": rates,
        "agreement": {
            "photos": len(images),
            "max_matched_box_or_score_difference": worst,
            "boxes_matched_min_share": min(shares),
            "boxes_matched_mean_share": round(float(np.mean(shares)), 4),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=None, help="photos compared (default: ships-dev)")
    parser.add_argument("--images", type=int, default=32, help="images timed (and compared)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best counts")
    parser.add_argument(
        "--threads",
        type=lambda text: [int(t) for t in text.split(",")],
        default=[1, 2],
        help="thread counts to measure, each given to torch and to ONNX Runtime alike (default 1,2)",
    )
    parser.add_argument("-o", "--out", default="benchmarks/results/export.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="feint-bench-export-"))
    os.environ["FEINT_CACHE"] = str(root / "cache")  # never the user's cache
    real = Path(os.environ.get("FEINT_REAL_DATA", "/nonexistent")) / "ships-dev"
    data = args.data or (real if real.is_dir() else None)
    try:
        load_before = load()
        started = time.perf_counter()
        folder = generated_folder(root / "classes", args.images)
        coco = generated_coco(root / "boxes", max(8, args.images // 4))
        if data is not None:
            every = sorted(data.rglob("*.jpg"))
            photos, source = every[:: max(1, len(every) // args.images)][: args.images], str(data)
        else:
            photos, source = sorted(folder.rglob("*.jpg"))[: args.images], "generated 320x222 JPEGs"
        train(
            TrainConfig(
                data=[str(folder)],
                out=str(root / "classifier"),
                mode="frozen",
                epochs=1,
                size=CLASSIFIER_SIZE,
                progress=False,
            )
        )
        train_detector(
            DetectConfig(
                data=str(coco),
                out=str(root / "detector"),
                size=DETECTOR_SIZE,
                batch=4,
                epochs=1,
                progress=False,
            )
        )
        exports = {}
        for name in ("classifier", "detector"):
            t0 = time.perf_counter()
            written = export_run(root / name, "onnx")
            exports[name] = {
                "seconds": round(time.perf_counter() - t0, 1),
                "megabytes": round(written["bytes"] / 1e6, 1),
                "exporter": written["exporter"],
                "check_difference": written["difference"],
            }
            print(f"export {name}: {exports[name]}", flush=True)
        classifier = classifier_benchmark(
            root / "classifier", root / "classifier" / "model.onnx", photos, args
        )
        detector = detector_benchmark(root / "detector", root / "detector" / "model.onnx", photos, args)
        import onnxruntime

        results = {
            "machine": {
                "cpus": os.cpu_count(),
                "threads_measured": args.threads,
                "platform": platform.platform(),
                "processor": platform.processor() or platform.machine(),
                "load_average_before": load_before,
                "load_average_after": load(),
            },
            "versions": {**versions(), "onnxruntime": onnxruntime.__version__},
            "photos": source,
            "exports": exports,
            "classifier": classifier,
            "detector": detector,
            "seconds": round(time.perf_counter() - started, 1),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"written to {args.out}", flush=True)


if __name__ == "__main__":
    main()
