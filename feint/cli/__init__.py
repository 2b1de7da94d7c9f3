"""The `feint` command: a thin layer over the library, one module per command group."""

from __future__ import annotations

import sys

import typer

from feint.errors import FeintError

app = typer.Typer(
    name="feint",
    help="Render labelled images from randomised 3D scenes, train on them, measure on real photos.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _register() -> None:
    """Attach the command groups; each module adds its commands to `app` or a sub-app."""
    from feint.cli import data, detect, graph, render, study, train, tune  # noqa: F401


def main() -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    _register()
    try:
        app()
    except FeintError as err:
        print(f"feint: error: {err}", file=sys.stderr)
        sys.exit(2)
