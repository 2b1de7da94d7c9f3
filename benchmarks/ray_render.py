"""Render throughput on Ray: images/s with 1 vs 2 Ray workers on a local Ray instance, the local process
pool with 2 workers alongside for reference (same machine, same moment).

Run on demand: `.venv/bin/python benchmarks/ray_render.py [-n 40] [--size 96] [-o results/ray.json]`.
Each measurement includes starting its workers (Blender in each); Ray's own start-up is reported apart.
The configurations alternate over `--repeats` rounds so that a change in the machine's load (it is often
shared) hits all of them alike; the load average before and after each measurement is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from importlib import metadata
from pathlib import Path

from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import RenderJob

CONFIGS = (("ray", 1), ("ray", 2), ("local", 2))


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def measure(executor: str, workers: int, n: int, size: int, root: Path) -> dict[str, object]:
    out = root / f"{executor}{workers}"
    before = load()
    started = time.perf_counter()
    job = RenderJob(load_graph("marine"), n, out, size=size, seed=0, workers=workers, executor=executor)
    render_dataset(job, progress=False)
    seconds = time.perf_counter() - started
    shutil.rmtree(out)
    return {"images_per_second": round(n / seconds, 3), "load_before": before, "load_after": load()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=40, help="images per measurement")
    parser.add_argument("--size", type=int, default=96, help="longer image side, pixels")
    parser.add_argument("--repeats", type=int, default=2, help="rounds over the configurations")
    parser.add_argument("-o", "--out", default="benchmarks/results/ray.json")
    args = parser.parse_args()
    import ray

    results: dict[str, object] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "ray": metadata.version("ray"),
            "load_average_before": load(),
        },
        "graph": "marine",
        "size": args.size,
        "images_per_measurement": args.n,
    }
    started = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    results["ray_start_seconds"] = round(time.perf_counter() - started, 2)
    root = Path(tempfile.mkdtemp(prefix="feint-bench-ray-"))
    runs: dict[str, list[dict[str, object]]] = {f"{e}_{w}w": [] for e, w in CONFIGS}
    try:
        for _ in range(args.repeats):
            for executor, workers in CONFIGS:
                run = measure(executor, workers, args.n, args.size, root)
                runs[f"{executor}_{workers}w"].append(run)
                print(f"{executor} {workers} worker(s): {run['images_per_second']} images/s", flush=True)
    finally:
        ray.shutdown()
        shutil.rmtree(root, ignore_errors=True)
    median = {k: round(statistics.median(r["images_per_second"] for r in v), 3) for k, v in runs.items()}
    results["runs"] = runs
    results["images_per_second_median"] = median
    results["ray_speedup_2_over_1"] = round(median["ray_2w"] / median["ray_1w"], 2)
    results["machine"]["load_average_after"] = load()  # type: ignore[index]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(median), f"speed-up {results['ray_speedup_2_over_1']}x", flush=True)


if __name__ == "__main__":
    main()
