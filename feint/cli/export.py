"""`feint export`: a trained run (classifier or detector) as one ONNX or TorchScript model file.

torch and ONNX are imported inside the command so that `feint --help` stays fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from feint.cli import app
from feint.cli.options import opt


@app.command("export")
def export_cmd(
    run: Annotated[Path, typer.Argument(help="Run folder written by `feint train` or `feint detect train`.")],
    fmt: Annotated[
        Literal["onnx", "torchscript"],
        opt(
            "--format",
            help="onnx (ONNX Runtime, any language; `feint predict` runs it too) or torchscript "
            "(PyTorch and libtorch, torch.jit.load).",
        ),
    ] = "onnx",
    out: Annotated[
        Path | None,
        opt("-o", "--out", help="Model file (default RUN/model.onnx or RUN/model.torchscript)."),
    ] = None,
    overwrite: Annotated[bool, opt("--overwrite", help="Replace the model file if it exists.")] = False,
) -> None:
    """Export a run's best weights as one model file, its preprocessing and classes recorded in it."""
    from feint.deploy import export_run

    r = export_run(run, fmt, out, overwrite)
    what = f"{r['task']} ({r['backbone']}, {r['mode']}, {len(r['classes'])} classes)"
    agrees = f"agrees with PyTorch within {r['difference']:.1e} on a test input"
    if r["task"] == "detector":
        agrees += f" ({r['matched']:.0%} of the boxes matched)"
    typer.echo(f"{r['out']}: {what}, {r['format']}, {r['bytes'] / 1e6:.1f} MB; {agrees}")
