"""The detector recipe, chosen by measurement: variants of `feint detect train` on one split, scored on its
validation split (never its test split), side by side.

Run on demand, after rendering and splitting the bottles (docs/detection.md):

    .venv/bin/python benchmarks/detect_recipe.py runs/bottles-split --train-fraction 0.5 --epochs 6 \
        --variants default-anchors,fit-anchors,fit-jitter --parallel 3

Each variant is one `feint detect train` (same data, seed, size, batch and epochs; 1 torch thread each so
that variants can run side by side on a small machine), continued with --resume if its folder exists (a
finished one is only evaluated again), then `feint detect eval` on the val split. `--train-fraction F`
trains on that share of the training images (`feint data subsample`, per class: a faster comparison; the
choice is then confirmed at full size).
The JSON has, per variant, the command, mAP@0.5, mAP@0.5:0.95, AP@0.5 per class, the recall of lying
objects (boxes at least 1.3 times wider than tall: lying bottles) and of the others at IoU 0.5 among the
detections scoring >= 0.05 (what mAP counts) and >= 0.5, the training time and images/s.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from feint.run_folder import versions

FEINT = [sys.executable, "-m", "feint"]
# Variants measured before the stride-8 pyramid became the default keep their stride-16 pyramid.
S16 = ["--finest-stride", "16"]
VARIANTS: dict[str, list[str]] = {
    "default-anchors": ["--anchors", "fixed", "--augment", "flip", *S16],
    "fit-anchors": ["--anchors", "fit", "--augment", "flip", *S16],
    "fit-jitter": ["--anchors", "fit", "--augment", "jitter", *S16],
    "fit-rotate": ["--anchors", "fit", "--augment", "rotate", *S16],
    "fit-jitter-416": ["--anchors", "fit", "--augment", "jitter", "--size", "416", *S16],
    "efficientnet_lite0": ["--anchors", "fit", "--augment", "flip", "--backbone", "efficientnet_lite0", *S16],
    "lite0-fixed": ["--anchors", "fixed", "--augment", "flip", "--backbone", "efficientnet_lite0", *S16],
    "fixed-416": ["--anchors", "fixed", "--augment", "flip", "--size", "416", *S16],
    "fixed-lr0.02": ["--anchors", "fixed", "--augment", "flip", "--lr", "0.02", *S16],
    "fixed-s8": ["--anchors", "fixed", "--augment", "flip", "--finest-stride", "8"],
}


def subset(split: Path, fraction: float, out: Path) -> Path:
    """The split with `fraction` of its training images (val and test whole), via `feint data subsample`."""
    if not out.is_dir():
        subprocess.run(
            [*FEINT, "data", "subsample", str(split), "--in-split", "train", "--fraction", str(fraction),
             "-o", str(out)],
            check=True,
        )  # fmt: skip
    return out


def recall(report: Path, lying: bool, iou: float = 0.5, conf: float = 0.5) -> float | None:
    """Share of ground-truth boxes (lying ones: width >= 1.3 height; or the others) found by a detection of
    their class with IoU >= `iou` and score >= `conf`."""
    import torch
    from torchvision.ops import box_iou

    truth = json.loads((report / "ground_truth.json").read_text())
    found = [d for d in json.loads((report / "detections.json").read_text()) if d["score"] >= conf]

    def xyxy(b: list[float]) -> list[float]:
        return [b[0], b[1], b[0] + b[2], b[1] + b[3]]

    hits = total = 0
    for a in truth["annotations"]:
        w, h = a["bbox"][2:]
        if (w >= 1.3 * h) != lying:
            continue
        total += 1
        mine = [
            xyxy(d["bbox"])
            for d in found
            if d["image_id"] == a["image_id"] and d["category_id"] == a["category_id"]
        ]
        if mine and float(box_iou(torch.tensor([xyxy(a["bbox"])]), torch.tensor(mine)).max()) >= iou:
            hits += 1
    return round(hits / total, 4) if total else None


def train_and_eval(name: str, data: Path, args: argparse.Namespace, root: Path) -> dict[str, Any]:
    run = root / name
    extra = VARIANTS[name]
    size = extra[extra.index("--size") + 1] if "--size" in extra else str(args.size)
    command = [
        *FEINT, "detect", "train", str(data), "-o", str(run), "--epochs", str(args.epochs),
        "--batch", str(args.batch), "--size", size, "--workers", "0", "-q",
        *[a for a in extra if a not in ("--size", size)],
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    done = run / "run.json"
    if not (done.is_file() and json.loads(done.read_text()).get("status") == "done"):  # else: evaluate again
        subprocess.run([*command, *(["--resume"] if run.is_dir() else [])], check=True, env=env)
    report = run / "detect-eval-val"
    subprocess.run(
        [
            *FEINT,
            "detect",
            "eval",
            str(run),
            str(data),
            "--split",
            "val",
            "-o",
            str(report),
            "--overwrite",
            "-q",
        ],
        check=True,
        env=env,
    )
    metrics = json.loads((report / "metrics.json").read_text())
    record = json.loads((run / "run.json").read_text())
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return {
        "command": " ".join(["feint", *command[3:]]),
        "val_map50": metrics["map50"],
        "val_map": metrics["map"],
        "val_ap50_per_class": {c["class"]: c["ap50"] for c in metrics["per_class"]},
        "val_recall_lying": {f"score>={c}": recall(report, True, conf=c) for c in (0.05, 0.5)},
        "val_recall_others": {f"score>={c}": recall(report, False, conf=c) for c in (0.05, 0.5)},
        "anchors": record.get("anchors"),
        "best_epoch": record["best_epoch"],
        "epochs": record["epochs_run"],
        "train_seconds": record["seconds_this_session"],  # the last session: the whole run unless resumed
        "train_images_per_second": round(
            sum(r.get("images_per_second", 0) for r in rows) / max(1, len(rows)), 2
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "split", type=Path, help="a `feint data split` folder with train, val (and test) splits"
    )
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"of {', '.join(VARIANTS)}")
    parser.add_argument("--train-fraction", type=float, default=1.0, help="share of the training images")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=320)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per variant")
    parser.add_argument("--parallel", type=int, default=1, help="variants trained at once")
    parser.add_argument("--runs", type=Path, default=Path("runs/detect-recipe"))
    parser.add_argument("-o", "--out", type=Path, default=Path("benchmarks/results/detect_recipe.json"))
    args = parser.parse_args()
    names = [v for v in args.variants.split(",") if v]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant {unknown[0]!r}; expected some of {', '.join(VARIANTS)}")
    args.runs.mkdir(parents=True, exist_ok=True)
    data = args.split
    if args.train_fraction < 1:
        data = subset(args.split, args.train_fraction, args.runs / f"data-{args.train_fraction}")

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(args.parallel) as pool:
        found = pool.map(lambda n: train_and_eval(n, data, args, args.runs), names)
        results = dict(zip(names, found, strict=True))
    for name, r in results.items():
        print(
            f"{name:20s} val mAP@0.5 {r['val_map50']:.3f}  mAP@0.5:0.95 {r['val_map']:.3f}  "
            f"lying recall {r['val_recall_lying']['score>=0.05']}  {r['train_seconds']} s"
        )
    out = {
        "data": str(args.split),
        "train_fraction": args.train_fraction,
        "epochs": args.epochs,
        "batch": args.batch,
        "size": args.size,
        "threads_per_variant": args.threads,
        "parallel": args.parallel,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "versions": versions(),
        "variants": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
