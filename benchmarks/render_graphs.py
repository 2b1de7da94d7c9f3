"""Render time per image of each marine graph version at 224 px: what each realism step costs.

Each graph renders the same image seeds (`-n` images, 1 worker with every core, as `feint render`), in
alternating rounds so that a busy machine slows every graph alike; the steady-state seconds per image is the
median over the rounds (the first image of a process loads Cycles' kernels and is left out). Every graph
renders the present ship models (their versions are in the JSON), so the rows differ by graph alone; what
a new model costs shows against a JSON of the earlier models.

Run on demand (writes benchmarks/results/render_graphs.json):
    .venv/bin/python benchmarks/render_graphs.py [-n 24] [--rounds 2] [--size 224] [GRAPH ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import tempfile
from pathlib import Path

from feint.assets.ships import ship_asset_versions
from feint.graph import load_graph
from feint.render.dataset import render_dataset
from feint.render.job import PIXELS_VERSION, RenderJob

ROOT = Path(__file__).resolve().parents[1]
GRAPHS = [
    str(ROOT / "examples/graphs/marine-v1.yaml"),
    str(ROOT / "examples/graphs/marine-v2.yaml"),
    str(ROOT / "examples/graphs/marine-v3.yaml"),
    str(ROOT / "examples/graphs/marine-v4.yaml"),
    "marine",
]


def seconds_per_image(graph: str, n: int, size: int, root: Path) -> float:
    """Steady-state seconds per image of `n` renders of `graph`: first record written to last."""
    out = root / "renders"
    render_dataset(RenderJob(load_graph(graph), n, out, size=size, seed=0, workers=1), progress=False)
    finished = sorted(p.stat().st_mtime for p in (out / "records").glob("*.json"))
    shutil.rmtree(out)
    return (finished[-1] - finished[0]) / (n - 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("graphs", nargs="*", default=GRAPHS, help="graph files or built-in names")
    parser.add_argument("-n", type=int, default=24, help="images per graph and round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("-o", "--out", default="benchmarks/results/render_graphs.json")
    args = parser.parse_args()

    load_before = os.getloadavg()
    times: dict[str, list[float]] = {g: [] for g in args.graphs}
    with tempfile.TemporaryDirectory(prefix="feint-bench-") as tmp:
        for _ in range(args.rounds):
            for graph in args.graphs:
                times[graph].append(seconds_per_image(graph, args.n, args.size, Path(tmp)))
    result = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
        },
        "pixels_version": PIXELS_VERSION,
        "ship_model_versions": ship_asset_versions(),  # every graph renders the present models
        "size": args.size,
        "images_per_measurement": args.n,
        "rounds": args.rounds,
        "seconds_per_image": {
            Path(g).stem if g.endswith(".yaml") else f"{g} (built-in)": round(statistics.median(t), 3)
            for g, t in times.items()
        },
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["seconds_per_image"], indent=2))


if __name__ == "__main__":
    main()
