"""`feint render GRAPH -n N -o DIR`: render a labelled dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from feint.cli import app


@app.command("render")
def render(
    graph: str = typer.Argument(..., help="Graph YAML file or built-in graph name (marine)."),
    n: int = typer.Option(..., "-n", min=1, help="Number of images."),
    out: Path = typer.Option(..., "-o", "--out", help="Output dataset folder (new, or one to --resume)."),
    size: int = typer.Option(160, min=16, max=4096, help="Longer side of the images, pixels."),
    seed: int = typer.Option(0, help="Dataset seed: image i depends on (seed, i) only."),
    workers: int = typer.Option(1, min=1, help="Blender worker processes."),
    resume: bool = typer.Option(False, "--resume", help="Finish an interrupted render in OUT."),
    recycle: int = typer.Option(250, min=1, help="Restart a worker after this many images (flat memory)."),
) -> None:
    """Render N images with COCO boxes/masks, a parameter table, a dataset card and a preview grid."""
    from feint.graph import load_graph
    from feint.render.dataset import RenderJob, render_dataset

    job = RenderJob(load_graph(graph), n, out, size, seed, workers, resume, recycle)
    card = render_dataset(job)
    typer.echo(
        f"{card['images']} images ({card['failed']} failed, {card['redraws']} re-drawn) in {out}; "
        f"{card['wall_seconds']:.1f} s; preview: {out / 'preview.png'}"
    )
