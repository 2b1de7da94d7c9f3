"""`feint study run STUDY`: the whole methodology in one command, resumable, ending with the report."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from feint.cli import app
from feint.cli.options import TRACKER_DEFAULT, Align, Quiet, TrackerChoice, WorkDeviceOption, alignment

study_app = typer.Typer(help="Measure how much real data synthetic data replaces.", no_args_is_help=True)
app.add_typer(study_app, name="study")


@study_app.command("run")
def run(
    study: str = typer.Argument(..., help="Study YAML, or a built-in study (ships4, ships10)."),
    real: str = typer.Option(None, "--real", help="Real data (overrides the study file)."),
    test: str = typer.Option(None, "--test", help="A separate real test set (else a group-disjoint split)."),
    graph: str = typer.Option(
        None, "--graph", help="Graph YAML or built-in name to render (overrides the study file's)."
    ),
    out: Path = typer.Option(
        None, "-o", "--out", help="Study folder (default runs/study-NAME, or study-NAME-validation)."
    ),
    align: Align = None,
    quick: bool = typer.Option(
        False, "--quick", help="The reduced study: few fractions, one seed, few renders."
    ),
    score_on: Literal["test", "validation"] = typer.Option(
        None,
        "--score-on",
        help="test: score on the real test split (the study file's default). validation: train on half of "
        "the training split, score on the other half, never read the test split (for choosing recipes "
        "and graphs).",
    ),
    cache: Path = typer.Option(
        None, help="Cache of renders and features (default ~/.cache/feint or FEINT_CACHE)."
    ),
    tracker: TrackerChoice = TRACKER_DEFAULT,
    executor: Literal["local", "ray"] = typer.Option(
        "local", help="Where renders and runs go: local, or ray (each step's runs side by side)."
    ),
    address: str = typer.Option(
        None, help="Ray cluster address (auto: the one `ray start` made; default: start Ray here)."
    ),
    device: WorkDeviceOption = None,
    quiet: Quiet = False,
) -> None:
    """Run (or resume) a study and write its tables and HTML report."""
    from feint.distributed import check_executor
    from feint.graph import load_graph
    from feint.outputs import Inputs, check_work_folder
    from feint.studies.spec import load_study
    from feint.studies.study import StudyRunner
    from feint.tracking import open_tracker, study_logger
    from feint.training.cache import cache_root
    from feint.training.device import resolve_devices

    check_executor(executor)
    spec = load_study(study, real, test, graph)
    graph_device = load_graph(spec.synthetic.graph).render.device
    devices = resolve_devices(device, graph_device, on_ray=executor == "ray")
    if quick:
        spec = spec.quick_version()
    if score_on is not None:
        spec = spec.model_copy(update={"score_on": score_on})
    chosen = alignment(align)
    if chosen is not None:
        spec = spec.model_copy(update={"align": chosen})
    out = out or Path("runs") / spec.folder_name()
    check_work_folder(out, Inputs.of(*[p for p in (spec.real, spec.test) if p]), "study.json", "study")
    logger = open_tracker(tracker.value, out, spec.name, short_runs=True)
    runner = StudyRunner(
        spec,
        out,
        cache_root(cache),
        tracker=study_logger(logger) if logger is not None else None,
        progress=not quiet,
        executor=executor,
        address=address,
        devices=devices,
    )
    result = runner.run()
    h = result.headlines
    scored = " (held-out validation photos)" if spec.score_on == "validation" else ""
    typer.echo(
        f"zero-shot {h.get('zero_shot_accuracy', float('nan')):.3f}, 100 % real "
        f"{h.get('real_100_accuracy', float('nan')):.3f}{scored}; report: {out / 'report.html'}"
    )
    if logger is not None and logger.summary():
        typer.echo(logger.summary())


@study_app.command("compare")
def compare(
    folders: list[Path] = typer.Argument(..., help="Finished study folders, each with a zero_shot step."),
    labels: str = typer.Option(
        None, "--labels", help="Comma-separated column names (default: folder names)."
    ),
    per_class: int = typer.Option(
        None, "--per-class", help="Compare the runs with this many renders per class (default: the most)."
    ),
    figure: Path = typer.Option(
        None, "--figure", help="Also write the confusion matrices side by side (PNG)."
    ),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the --figure file if it exists."),
) -> None:
    """Zero-shot accuracy and per-class recall of several studies as a markdown table (mean over seeds)."""
    from feint.errors import FeintError
    from feint.outputs import Inputs, check_file_output
    from feint.reports.compare import markdown_table, plot_confusions, read_zero_shot

    if figure is not None:
        check_file_output(figure, Inputs.of(*folders), overwrite)

    names = [s.strip() for s in labels.split(",")] if labels else [None] * len(folders)
    if len(names) != len(folders):
        raise FeintError(f"--labels: {len(names)} labels for {len(folders)} folders")
    results = [read_zero_shot(f, n, per_class) for f, n in zip(folders, names, strict=True)]
    typer.echo(markdown_table(results))
    if figure is not None:
        plot_confusions(results, figure)
        typer.echo(f"confusion matrices: {figure}")
