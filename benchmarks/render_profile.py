"""Where a render's time goes, and feint against a bare Blender loop on the same scenes, side by side.

For each size (96/160/224 px), alternating in one run:
- feint: `render_dataset` of the built-in marine graph (1 worker with every core, as `feint render`), its
  images/s in steady state and the mean seconds of each stage from the records (sample, scene update,
  Cycles, readback, post, labels, write); and with 2 workers of one thread each, which overlap one's scene
  work with the other's path tracing;
- bare: a Blender process that renders the same scenes (the same descriptions, applied untimed) with the same
  settings and times only `bpy.ops.render.render` (what Blender alone costs for these images), and the first
  scene rendered again and again (what Cycles costs when nothing changes between images: persistent data
  keeps the BVH);
- Cycles' own split, by ablation on the same scenes: 1 sample without denoising (scene sync, BVH build, one
  pass), 8 samples without denoising (path tracing), 8 with (denoising);
- the cuts a faster render could make (CUTS: cheaper denoising, fewer samples), images/s on the same scenes.
The ratio feint / bare (same scenes) is feint's overhead; the ablations say what a faster render would have to
give up.

Run on demand (writes benchmarks/results/render_profile.json):
    .venv/bin/python benchmarks/render_profile.py [-n 24] [-o FILE]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = (96, 160, 224)
# What a faster render could give up, each on the same scenes (Cycles settings; the graph's are 8 samples,
# OpenImageDenoise at its default "high" quality): cheaper denoising, fewer samples, both.
CUTS: dict[str, dict[str, Any]] = {
    "denoise_balanced": {"denoising_quality": "BALANCED"},
    "denoise_fast": {"denoising_quality": "FAST"},
    "samples_4": {"samples": 4},
    "samples_4_denoise_fast": {"samples": 4, "denoising_quality": "FAST"},
}


def feint_run(size: int, n: int, root: str, workers: int = 1, device: str = "cpu") -> dict[str, Any]:
    from feint.graph import load_graph
    from feint.render.dataset import render_dataset
    from feint.render.job import RenderJob

    out = Path(root) / f"feint-{size}-{workers}w"
    job = RenderJob(load_graph("marine"), n, out, size=size, workers=workers, device=device)
    render_dataset(job, progress=False)
    paths = sorted((out / "records").glob("*.json"))
    records = [json.loads(p.read_text()) for p in paths][1:]  # the first loads Cycles' kernels
    # steady state, as the bare loop's: from the first record written to the last (start-up left out)
    finished = sorted(p.stat().st_mtime for p in paths)
    stages = {k: statistics.mean(r["stages"][k] for r in records) for k in records[0]["stages"]}
    return {"images_per_second": (n - 1) / (finished[-1] - finished[0]), "stage_seconds_mean": stages}


def bare_run(
    size: int, n: int, settings: dict[str, Any] | None = None, device: str = "cpu"
) -> dict[str, Any]:
    """In a fresh process: feint's scenes for images 0..n-1 (first draw), Blender timed alone."""
    import bpy

    from feint.graph import load_graph
    from feint.render.apply import BlenderScene
    from feint.render.device import resolve_render_device
    from feint.scene.sampler import make_sampler

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # Blender prints every file it saves
    sampler = make_sampler(load_graph("marine"), 0, size)
    scene = BlenderScene(threads=os.cpu_count() or 1, device=resolve_render_device(device))
    path = str(scene.static.workdir / "bare.exr")
    times, repeat = [], []
    for i in range(n):
        desc = sampler.sample(i, 0)
        scene.update(desc)
        for key, value in (settings or {}).items():
            setattr(scene.scene.cycles, key, value)
        scene.scene.render.filepath = path
        started = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        times.append(time.perf_counter() - started)
    for _ in range(n):  # the last scene again and again: nothing changes between renders
        started = time.perf_counter()
        bpy.ops.render.render(write_still=True)
        repeat.append(time.perf_counter() - started)
    # the first render of a process loads Cycles' kernels: left out of both means, as of feint's
    return {"seconds_mean": statistics.mean(times[1:]), "repeat_seconds_mean": statistics.mean(repeat[1:])}


def in_fresh_process(fn: Any, *args: Any) -> Any:
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("-n", type=int, default=24, help="images per measurement")
    parser.add_argument("-o", "--out", default="benchmarks/results/render_profile.json")
    parser.add_argument("--device", default="cpu", help="where Cycles renders (cpu, cuda, optix, ...)")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in os.getloadavg()],
        },
        "images_per_measurement": args.n,
        "device": args.device,
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="feint-profile-") as root:
        for size in SIZES:
            dev = args.device
            feint = feint_run(size, args.n, root, 1, dev)
            feint2 = feint_run(size, args.n, root, 2, dev)
            bare = in_fresh_process(bare_run, size, args.n, None, dev)
            no_denoise = in_fresh_process(bare_run, size, args.n, {"use_denoising": False}, dev)
            one_sample = in_fresh_process(bare_run, size, args.n, {"use_denoising": False, "samples": 1}, dev)
            bare_ips = 1 / bare["seconds_mean"]
            row = {
                "feint_images_per_second": round(feint["images_per_second"], 3),
                "bare_images_per_second": round(bare_ips, 3),
                "ratio_feint_to_bare": round(feint["images_per_second"] / bare_ips, 3),
                "feint_2_workers_images_per_second": round(feint2["images_per_second"], 3),
                "bare_one_scene_repeated_images_per_second": round(1 / bare["repeat_seconds_mean"], 3),
                "feint_stage_seconds_mean": {k: round(v, 4) for k, v in feint["stage_seconds_mean"].items()},
                "cuts_images_per_second": {
                    name: round(
                        1 / in_fresh_process(bare_run, size, args.n, settings, dev)["seconds_mean"], 3
                    )
                    for name, settings in CUTS.items()
                },
                "cycles_split_seconds": {
                    "sync_bvh_and_one_sample": round(one_sample["seconds_mean"], 4),
                    "path_tracing_other_samples": round(
                        no_denoise["seconds_mean"] - one_sample["seconds_mean"], 4
                    ),
                    "denoising": round(bare["seconds_mean"] - no_denoise["seconds_mean"], 4),
                },
            }
            results["sizes"][f"{size}px"] = row
            print(f"{size}px: {json.dumps(row)}", flush=True)
    results["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
