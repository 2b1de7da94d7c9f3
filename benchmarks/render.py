"""Render throughput and memory: images/s at 96/160/224 px with 1 and 2 workers, peak memory over a long run.

Run on demand: `.venv/bin/python benchmarks/render.py [--long 500] [-o benchmarks/results/render.json]`.
Target (issue 3): >= 2 images/s at 160 px on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import tempfile
import time
from pathlib import Path

from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob


def throughput(size: int, workers: int, n: int, root: Path) -> float:
    out = root / f"s{size}w{workers}"
    started = time.perf_counter()
    render_dataset(
        RenderJob(load_graph("marine"), n, out, size=size, seed=0, workers=workers), progress=False
    )
    seconds = time.perf_counter() - started
    shutil.rmtree(out)
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=40, help="images per throughput measurement")
    parser.add_argument("--long", type=int, default=500, help="images in the memory run (0: skip)")
    parser.add_argument("-o", "--out", default="benchmarks/results/render.json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="feint-bench-"))
    results: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
        },
        "images_per_measurement": args.n,
        "images_per_second": {},
    }
    for size in (96, 160, 224):
        for workers in (1, 2):
            ips = throughput(size, workers, args.n, root)
            results["images_per_second"][f"{size}px_{workers}w"] = round(ips, 3)  # type: ignore[index]
            print(f"{size}px {workers} worker(s): {ips:.2f} images/s", flush=True)
    if args.long:
        out = root / "long"
        started = time.perf_counter()
        render_dataset(
            RenderJob(load_graph("marine"), args.long, out, size=96, seed=0, workers=2), progress=False
        )
        results["long_run"] = {
            "images": args.long,
            "seconds": round(time.perf_counter() - started, 1),
            "peak_worker_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "peak_main_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }
        print(results["long_run"], flush=True)
    results["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]  # type: ignore[index]
    rates = results["images_per_second"]
    results["best_160px"] = max(rates["160px_1w"], rates["160px_2w"])  # type: ignore[index]
    results["target_160px_met"] = results["best_160px"] >= 2.0
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
