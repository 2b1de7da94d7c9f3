"""`feint tune GRAPH --real VAL`: improve a graph against real validation photos; `feint ablate GRAPH
--real DATA`: switch graph features off one at a time and measure what each is worth."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import typer

from feint.cli import app
from feint.cli.options import (
    TRACKER_DEFAULT,
    Align,
    Quiet,
    TrackerChoice,
    WorkDeviceOption,
    alignment,
    comma_list,
)

if TYPE_CHECKING:
    from feint.training.device import Devices

GRAPH_ARG = typer.Argument(..., help="Graph YAML file or built-in graph name (marine, bottles).")
CACHE_OPT = typer.Option(
    None, help="Cache of features (and ablation renders); default FEINT_CACHE or ~/.cache/feint."
)


def _classes(text: str | None) -> list[str] | None:
    return comma_list(text) or None


def _devices(device: str | None, graph: str) -> Devices:
    """--device resolved on this machine before any work (one line if it lacks the device); without it,
    Cycles renders as the graph's render.device says."""
    from feint.graph import load_graph
    from feint.training.device import resolve_devices

    return resolve_devices(device, load_graph(graph).render.device)


@app.command("tune")
def tune_cmd(
    graph: str = GRAPH_ARG,
    real: Path = typer.Option(
        ...,
        "--real",
        help="Real VALIDATION images (any format feint reads): a validation split of your real training "
        "data, never your test set.",
    ),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder (new, or one to resume)."),
    split: str = typer.Option(None, "--split", help="Read only this split of --real (e.g. val)."),
    classes: str = typer.Option(
        None, "--classes", help="Comma-separated classes (default: those of --real)."
    ),
    trials: int = typer.Option(20, min=1, help="Trials in all, trial 0 being the graph as it is."),
    per_class: int = typer.Option(12, "--per-class", min=1, help="Renders per class of each trial."),
    size: int = typer.Option(128, min=16, max=4096, help="Render size of each trial, pixels."),
    space: Path = typer.Option(
        None, "--space", help="Search space YAML (default: the channel's, feint/tuning/spaces/)."
    ),
    objective: Literal["zero-shot", "gap", "both"] = typer.Option(
        "zero-shot",
        help="zero-shot (balanced accuracy of a head trained on the renders), gap (KID of "
        "render and real features, lower is better) or both (accuracy - 5 x gap).",
    ),
    workers: int = typer.Option(1, min=1, help="Trials run side by side (processes sharing optuna.db)."),
    confirm: int = typer.Option(
        3,
        min=0,
        help="Score the base graph and this many best trials again on other renders; pick by the mean.",
    ),
    holdout: float = typer.Option(
        0.5,
        min=0,
        max=0.95,
        help="Share of the photos (whole ships) held out of every trial; the base graph and the pick are "
        "scored on them at the end (0: no held-out check).",
    ),
    align: Align = None,
    seed: int = typer.Option(0, help="Render and sampler seed: the run is reproducible with one worker."),
    backbone: str = typer.Option("efficientnet_lite0", help="Frozen backbone of the features."),
    image_size: int = typer.Option(224, "--image-size", min=16, help="Backbone input size."),
    cache: Path = CACHE_OPT,
    tracker: TrackerChoice = TRACKER_DEFAULT,
    device: WorkDeviceOption = None,
    quiet: Quiet = False,
) -> None:
    """Tune a graph's distributions with Optuna: render a small batch per trial, score it on the real
    validation images, write best.yaml (extends GRAPH), trials.csv and report.html. Re-run to resume."""
    from feint.errors import FeintError
    from feint.tracking import open_tracker, project_name
    from feint.tuning.score import OBJECTIVES
    from feint.tuning.tune import make_settings, tune

    if objective not in OBJECTIVES:
        raise FeintError(f"--objective {objective!r}: pick one of {', '.join(OBJECTIVES)}")
    devices = _devices(device, graph)
    from feint.outputs import Inputs, check_not_input

    check_not_input(out, Inputs.of(real, *([space] if space else [])))
    settings = make_settings(
        graph,
        real,
        split,
        _classes(classes),
        space,
        objective=objective,
        per_class=per_class,
        size=size,
        seed=seed,
        backbone=backbone,
        image_size=image_size,
        trials=trials,
        workers=workers,
        align=alignment(align) or "auto",
        confirm=confirm,
        holdout=holdout,
    )
    logger = open_tracker(tracker.value, out, project_name(out), short_runs=True)
    command = shlex.join(["feint", *sys.argv[1:]])
    card = tune(settings, out, cache, progress=not quiet, command=command, tracker=logger, devices=devices)
    base, best = card["base"], card["best"]
    report = out / "report.html"
    if best is None:
        typer.echo(f"no trial finished; report: {report}")
    else:
        moved = f"{base['score']:.4f} (base graph) -> " if base else ""
        typer.echo(
            f"{objective} score {moved}{best['score']:.4f} (trial {best['trial']}), {len(card['changed'])} "
            f"parameters changed; graph: {out / 'best.yaml'}; report: {report}"
        )
        typer.echo(held_out_line(card))
    if logger is not None and logger.summary():
        typer.echo(logger.summary())


def held_out_line(card: dict[str, Any]) -> str:
    """What the check on the held-out photos found, in one line."""
    held, noise = card["held_out"], card["base_noise"]
    if held is None:
        return "no held-out check (--holdout 0, or no finished trial)"
    scores = f"{held['base']:.4f} (base graph) -> {held['best']:.4f} on {held['photos']} held-out photos"
    if held["beats_base"] is None:
        spread = f" (its two batches {noise:.4f} apart)" if noise is not None else ""
        return f"the base graph stays: no trial beat it by more than the noise of its score{spread}; {scores}"
    if held["beats_base"]:
        return f"the pick beats the base graph on photos no trial was scored on: {scores}"
    return f"warning: the pick does not beat the base graph on the held-out photos ({scores}): keep the base"


@app.command("ablate")
def ablate_cmd(
    graph: str = GRAPH_ARG,
    real: Path = typer.Option(..., "--real", help="Real images to score on (a test or validation set)."),
    out: Path = typer.Option(..., "-o", "--out", help="Output folder for the table and chart."),
    split: str = typer.Option(None, "--split", help="Read only this split of --real."),
    classes: str = typer.Option(
        None, "--classes", help="Comma-separated classes (default: those of --real)."
    ),
    features: str = typer.Option(
        None, "--features", help="Comma-separated features to switch off (default: all of the table)."
    ),
    table: Path = typer.Option(
        None, "--table", help="YAML of features: `name: {parameter.path: value, ...}` (default: built-in)."
    ),
    per_class: int = typer.Option(12, "--per-class", min=1, help="Renders per class of each graph."),
    size: int = typer.Option(128, min=16, max=4096, help="Render size, pixels."),
    seed: int = typer.Option(0, help="Render seed: every graph renders the same image seeds."),
    workers: int = typer.Option(1, min=1, help="Blender worker processes."),
    backbone: str = typer.Option("efficientnet_lite0", help="Frozen backbone of the features."),
    image_size: int = typer.Option(224, "--image-size", min=16, help="Backbone input size."),
    cache: Path = CACHE_OPT,
    overwrite: bool = typer.Option(
        False, "--overwrite", help="Replace an earlier ablation folder at -o (files you added stay)."
    ),
    device: WorkDeviceOption = None,
    quiet: Quiet = False,
) -> None:
    """Render the graph and one copy per feature switched off; a head trained on each set of renders is
    scored on the real images: the drop says what the feature is worth. Writes ablations.csv/.json/.png."""
    from feint.tuning.ablate import ablate

    devices = _devices(device, graph)

    result = ablate(
        graph,
        real,
        out,
        split,
        _classes(classes),
        _classes(features),
        table,
        per_class,
        size,
        seed,
        workers,
        backbone,
        image_size,
        cache,
        progress=not quiet,
        overwrite=overwrite,
        devices=devices,
    )
    typer.echo(result.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    typer.echo(f"chart: {out / 'ablations.png'}")
