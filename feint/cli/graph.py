"""`feint graph show|validate|sample|reference`: look at a graph before rendering from it."""

from __future__ import annotations

import json
from pathlib import Path

import typer
import yaml

from feint.cli import app
from feint.cli.options import SEED_MAX, Overwrite

graph_app = typer.Typer(help="Inspect, validate and sample scene graphs.", no_args_is_help=True)
app.add_typer(graph_app, name="graph")

SIZE_MIN, SIZE_MAX = 16, 4096
GRAPH_ARG = typer.Argument(..., help="A graph YAML file, or a built-in graph name (marine, bottles).")


@graph_app.command("show")
def show(graph: str = GRAPH_ARG) -> None:
    """Print the resolved graph (after `extends:`) with every distribution."""
    from feint.graph import load_graph

    g = load_graph(graph)
    typer.echo(yaml.safe_dump(g.to_yaml(), sort_keys=False, width=120).rstrip())
    typer.echo("\n# parameters")
    for path, dist in g.parameters():
        typer.echo(f"{path:32s} {dist.describe()}")


@graph_app.command("validate")
def validate(graph: str = GRAPH_ARG) -> None:
    """Check a graph file; prints `ok` or one line naming the file, line and field at fault."""
    from feint.graph import load_graph

    g = load_graph(graph)
    typer.echo(
        f"ok: {graph} ({g.channel} channel, {len(g.class_names())} classes, "
        f"{sum(1 for _ in g.parameters())} parameters)"
    )


@graph_app.command("sample")
def sample(
    graph: str = GRAPH_ARG,
    n: int = typer.Option(3, "-n", help="How many samples to print."),
    seed: int = typer.Option(0, help="Dataset seed."),
    start: int = typer.Option(0, help="First sample index."),
    size: int = typer.Option(160, help="Image size the samples are drawn for."),
) -> None:
    """Print the sampled parameters of a few images (no rendering)."""
    from feint.errors import FeintError
    from feint.graph import load_graph
    from feint.scene.sampler import make_sampler

    if n < 1:
        raise FeintError(f"-n {n}: must be 1 or more")
    if not 0 <= seed <= SEED_MAX:
        raise FeintError(f"--seed {seed}: must be between 0 and {SEED_MAX}")
    if start < 0:
        raise FeintError(f"--start {start}: must be 0 or more")
    if not SIZE_MIN <= size <= SIZE_MAX:  # what `feint render --size` takes
        raise FeintError(f"--size {size}: must be between {SIZE_MIN} and {SIZE_MAX}")
    sampler = make_sampler(load_graph(graph), seed, size)
    for index in range(start, start + n):
        params = {k: v for k, v in sampler.sample(index).params.items() if k != "asset.params"}
        typer.echo(json.dumps(params, default=str, indent=1))


@graph_app.command("reference")
def reference(
    out: Path | None = typer.Option(None, "-o", "--out", help="Write the page here (default: print it)."),
    overwrite: Overwrite = False,
) -> None:
    """Print (or write) the graph reference: every field of every channel's graph schema, its bounds, the
    built-in graph's distribution and its meaning (docs/graph-reference.md is this page)."""
    from feint.graph.reference import graph_reference
    from feint.outputs import check_file_output, write_file_output

    page = graph_reference()
    if out is None:
        typer.echo(page, nl=False)
        return
    check_file_output(out, overwrite=overwrite)
    write_file_output(out, page.encode())
    typer.echo(f"{out}: the graph reference")
