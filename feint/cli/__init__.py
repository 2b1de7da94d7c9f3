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
    add_completion=False,
)


def _register() -> None:
    """Attach the command groups; each module adds its commands to `app` or a sub-app."""
    from feint.cli import data, detect, graph, render, study, train, tune  # noqa: F401


def _os_error(err: OSError) -> str:
    """An OS error as the one line a user can act on: the path and what the system said of it."""
    where = err.filename if err.filename is not None else ""
    reason = err.strerror or str(err)
    if err.errno == errno.ENOSPC:
        reason += " (free some space, or write elsewhere)"
    elif err.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        reason += " (pick a folder you can write to)"
    return f"{where}: {reason}" if where else reason


def main(argv: list[str] | None = None) -> None:
    """Entry point: every failure is one line on stderr. A user error (bad input, a file the system
    refuses) exits 2, Ctrl-C exits 130, and a bug exits 1 with its traceback only under FEINT_DEBUG=1."""
    try:
        _register()
        code = app(args=argv, prog_name="feint", standalone_mode=False)
    except ClickException as err:  # usage errors: click's own message and exit code (2)
        err.show()
        sys.exit(err.exit_code)
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
