"""Helpers of the feint ui tests."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def screenshot(tab, name: str) -> None:  # noqa: ANN001
    """Save a screenshot of the page for the README when FEINT_UI_SCREENSHOTS names a folder."""
    folder = os.environ.get("FEINT_UI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / f"ui-{name}.png"), full_page=False)


# The real photos of the tree: typesofships (CC BY 4.0, credited in the README), so that the screenshots these
# tests take may be published; three of its types under feint's class names.
REAL = "typesofships"
REAL_CLASSES = (
    "anchor_handling_tug_supply",
    "bulk_carrier",
    "buoy",
    "combat_vessel",
    "container",
    "kayak",
    "patrol_vessel",
    "sailing_vessel",
    "tug",
    "yacht",
)
CLASS_MAP = {"bulk_carrier": "bulkers", "sailing_vessel": "sailboat", "tug": "tug"}
CLASSES = "bulkers,sailboat,tug"


def feint(*args: object) -> None:
    """`feint ARGS...` through the real entry point; any exit but 0 fails the fixture."""
    from feint.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as done:
        assert done.code in (0, None), f"feint {' '.join(map(str, args))} exited {done.code}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(folders: list[Path], workdir: Path) -> Iterator[str]:
    """`feint ui FOLDERS --workdir WORKDIR` served by uvicorn on a free port in a thread; yields its URL."""
    import uvicorn

    from feint.ui.app import create_app

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(folders, workdir=workdir), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "feint ui did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
