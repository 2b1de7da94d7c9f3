"""`feint ui`: the local web app over datasets, runs, studies and graphs (FastAPI on uvicorn).

The web stack is imported inside the command so that `feint --help` stays fast.
"""

from __future__ import annotations

import errno
import secrets
import socket
from pathlib import Path
from typing import Annotated

import typer

from feint.cli import app
from feint.cli.options import opt
from feint.errors import FeintError


@app.command("ui")
def ui_cmd(
    folders: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Folders to look in: renders, datasets, runs, studies, graph files (default: runs)."
        ),
    ] = None,
    port: Annotated[
        int, opt("--port", "-p", help="Port to serve on (0: any free port).", min=0, max=65535)
    ] = 8765,
    host: Annotated[
        str,
        opt(
            "--host",
            help="Address to bind. The default serves this machine only; any other address asks every "
            "browser for a token, printed in the address to open.",
        ),
    ] = "127.0.0.1",
    token: Annotated[
        str | None,
        opt("--token", help="The token to ask for (default: a new random one when --host is not local)."),
    ] = None,
    workdir: Annotated[
        Path | None,
        opt(
            "--workdir",
            help="Where the app writes its new graph files, preview renders and thumbnail cache "
            "(default FIRST_FOLDER/feint-ui); nothing else on disk is changed.",
        ),
    ] = None,
    quiet: Annotated[bool, opt("-q", "--quiet", help="Print only the address; no request log.")] = False,
) -> None:
    """Look at renders and photos, drill into a study's mistakes and edit a graph with a live preview."""
    import uvicorn

    from feint.ui.app import LOOPBACK, create_app

    chosen = folders or [Path("runs")]
    for folder in chosen:
        if not folder.is_dir():
            raise FeintError(f"{folder}: no such folder (give folders holding renders, runs or studies)")
    if host not in LOOPBACK and token is None:
        token = secrets.token_urlsafe(24)
    web = create_app(chosen, workdir, host, token)
    listening = _listen(host, port)  # bound here: a port in use is one line, before any address is printed
    port = listening.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(web, host=host, port=port, log_level="warning" if quiet else "info")
    )
    shown = f"[{host}]" if ":" in host else host
    suffix = f"/?token={token}" if token else "/"
    typer.echo(f"feint ui: http://{shown}:{port}{suffix}  (Ctrl-C stops it)")
    server.run(sockets=[listening])


def _listen(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) (port 0: any free one), or a FeintError saying why it cannot be."""
    listening = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as err:
        listening.close()
        if err.errno == errno.EADDRINUSE:
            raise FeintError(f"--port {port}: in use; pick another, or --port 0 for any free one") from None
        raise FeintError(f"--host {host} --port {port}: cannot listen there ({err.strerror})") from None
    return listening
