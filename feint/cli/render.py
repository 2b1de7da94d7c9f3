"""`feint render GRAPH -n N -o DIR`: render a labelled dataset."""

from __future__ import annotations

import shlex
import signal
import sys
from pathlib import Path
from typing import Literal

import typer

from feint.cli import app
from feint.cli.options import SEED_MAX, Quiet, RenderDeviceOption


@app.command("render")
def render(
    graph: str = typer.Argument(..., help="Graph YAML file or built-in graph name (marine, bottles)."),
    n: int = typer.Option(..., "-n", min=1, help="Number of images."),
    out: str = typer.Option(
        ...,
        "-o",
        "--out",
        help="Output dataset folder (new, or one to --resume), or with --executor ray an fsspec URL.",
    ),
    size: int = typer.Option(160, min=16, max=4096, help="Longer side of the images, pixels."),
    seed: int = typer.Option(0, min=0, max=SEED_MAX, help="Dataset seed: image i depends on (seed, i) only."),
    workers: int = typer.Option(
        None, min=1, help="Blender worker processes (default 1; with --executor ray, all the cluster's CPUs)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted render in OUT."),
    recycle: int = typer.Option(250, min=1, help="Restart a worker after this many images (flat memory)."),
    executor: Literal["local", "ray"] = typer.Option(
        "local", help="Where the workers run: local (processes here) or ray."
    ),
    address: str = typer.Option(
        None, help="Ray cluster address (auto: the one `ray start` made; default: start Ray here)."
    ),
    device: RenderDeviceOption = None,
    quiet: Quiet = False,
) -> None:
    """Render N images with COCO boxes/masks, a parameter table, a dataset card and a preview grid."""
    from feint.distributed import check_executor, cluster_cpus
    from feint.distributed.storage import is_url, open_output
    from feint.graph import load_graph
    from feint.render.dataset import STOP_SIGNALS, RenderInterrupted, render_dataset
    from feint.render.job import RenderJob
    from feint.render.url import render_to_url

    check_executor(executor)
    loaded = load_graph(graph)
    if is_url(out):
        open_output(out, executor)
    if workers is None:
        workers = cluster_cpus(address) if executor == "ray" else 1
    job = RenderJob(
        loaded, n, Path(out), size, seed, workers, resume, recycle, executor, address, device=device
    )
    try:
        card = render_to_url(job, out, not quiet) if is_url(out) else render_dataset(job, not quiet)
    except RenderInterrupted as stop:
        for s in STOP_SIGNALS:  # exiting: a further Ctrl-C must not print a traceback from the exit itself
            signal.signal(s, signal.SIG_IGN)
        again = ["feint", "render", graph, "-n", str(n), "-o", out, "--size", str(size), "--seed", str(seed)]
        if device is not None:
            again += ["--device", device]
        if executor != "local":
            again += ["--executor", executor] + (["--address", address] if address else [])
        print(
            f"feint: interrupted: {stop.done} of {stop.n} images done in {out}; "
            f"finish with: {shlex.join([*again, '--resume'])}",
            file=sys.stderr,
        )
        sys.exit(128 + stop.signum)  # SystemExit, not typer.Exit: main() adds no second line
    failed = ""
    if card["failed"]:
        failed = f", {card['failed']} failed: too small to label after {loaded.render.max_redraws} re-draws"
    typer.echo(
        f"{card['images']} of {n} images ({card['redraws']} re-drawn{failed}) in {out}; "
        f"{card['wall_seconds']:.1f} s; preview: {out.rstrip('/')}/preview.png"
    )
