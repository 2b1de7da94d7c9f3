"""The `feint` command: a thin layer over the library, one module per command group."""

from __future__ import annotations

import errno
import os
import sys

import typer
from typer._click.exceptions import ClickException

from feint.errors import FeintError

app = typer.Typer(
    name="feint",
    help="Render labelled images from randomised 3D scenes, train on them, measure on real photos.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=True,  # --install-completion / --show-completion for bash, zsh, fish, PowerShell
    context_settings={"help_option_names": ["-h", "--help"]},  # every command and group, as git does
)


def _versions() -> str:
    """feint's version and those of the engines its outputs depend on, read from the installed packages'
    metadata (importing Blender or torch would take seconds)."""
    from importlib import metadata

    import feint

    def installed(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return f"feint {feint.__version__} (Blender {installed('bpy')}, torch {installed('torch')})"


def _print_version(value: bool) -> None:
    if value:
        typer.echo(_versions())
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", "-V", is_eager=True, callback=_print_version, help="Print the versions and exit."
    ),
) -> None:
    """Render labelled images from randomised 3D scenes, train on them, measure on real photos."""


def _register() -> None:
    """Attach the command groups; each module adds its commands to `app` or a sub-app."""
    from feint.cli import data, detect, export, graph, render, study, train, tune, ui  # noqa: F401


def _os_error(err: OSError) -> str:
    """An OS error as the one line a user can act on: the path and what the system said of it."""
    where = err.filename if err.filename is not None else ""
    reason = err.strerror or str(err)
    if err.errno == errno.ENOSPC:
        reason += " (free some space, or write elsewhere)"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason += " (pick a folder you can write to)"
    return f"{where}: {reason}" if where else reason


def _usage_error(err: ClickException) -> str:
    """Click's message on one line, with the command it is about and where its help is."""
    message = " ".join(err.format_message().split())
    ctx = getattr(err, "ctx", None)
    if ctx is None:
        return message
    return f"{ctx.command_path}: {message} (see '{ctx.command_path} -h')"


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure is one line on stderr. A user error (bad input, a file the system
    refuses) exits 2, Ctrl-C exits 130, and a bug exits 1 with its traceback only under FEINT_DEBUG=1."""
    try:
        _register()
        code = app(args=argv, prog_name="feint", standalone_mode=False)
    except ClickException as err:  # usage errors (an unknown option, a bad number): the same one line
        print(f"feint: error: {_usage_error(err)}", file=sys.stderr)
        sys.exit(2)
    except FeintError as err:
        print(f"feint: error: {' '.join(str(err).split())}", file=sys.stderr)  # one line, whatever it quotes
        sys.exit(2)
    except OSError as err:
        print(f"feint: error: {_os_error(err)}", file=sys.stderr)
        sys.exit(2)
    except UnicodeError as err:  # a user's file or file name that is not UTF-8 text
        print(f"feint: error: a file or file name is not UTF-8 text ({err})", file=sys.stderr)
        sys.exit(2)
    except (KeyboardInterrupt, typer.Abort):
        print("feint: interrupted", file=sys.stderr)
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as err:  # noqa: BLE001 - the last line of defence: a user never sees a traceback
        if os.environ.get("FEINT_DEBUG"):
            raise
        print(
            f"feint: internal error: {type(err).__name__}: {err} (a bug: please report it; "
            "FEINT_DEBUG=1 shows the traceback)",
            file=sys.stderr,
        )
        sys.exit(1)
    if code == 130:  # typer's own answer to Ctrl-C inside a command
        print("feint: interrupted", file=sys.stderr)
    sys.exit(code if isinstance(code, int) else 0)
