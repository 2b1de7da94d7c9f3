"""`feint ui`: the local web app over datasets, runs, studies and graphs (FastAPI on uvicorn).

The web stack is imported inside the command so that `feint --help` stays fast.
"""

from __future__ import annotations

import secrets
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
    if port == 0:
        port = _free_port(host)
    web = create_app(chosen, workdir, host, token)
    server = uvicorn.Server(
        uvicorn.Config(web, host=host, port=port, log_level="warning" if quiet else "info")
    )
    shown = f"[{host}]" if ":" in host else host
    suffix = f"/?token={token}" if token else "/"
    typer.echo(f"feint ui: http://{shown}:{port}{suffix}  (Ctrl-C stops it)")
    server.run()


def _free_port(host: str) -> int:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
