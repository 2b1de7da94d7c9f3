"""Preview renders of the graph editor as background jobs: `feint render` in a child process.

Rendering loads Blender in worker processes, takes seconds to minutes and may crash; none of that may
happen inside the server, so a preview is `python -m feint render GRAPH -n N --size S --seed K -o OUT
-q` started in its own process group. Its progress is read from what render writes as it goes (one
records/NNNNNN.json per finished image, images/NNNNNN.jpg per delivered one), so the page can poll it and
show each image as soon as it exists. Cancelling sends SIGTERM, on which render stops its workers; one
that has not stopped in KILL_AFTER seconds is killed with its process group.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feint.errors import FeintError

MAX_RUNNING = 2  # previews rendering at once: each runs Blender
KEEP = 20  # finished previews kept on disk; older ones are removed when a new one starts
KILL_AFTER = 10.0  # seconds a cancelled render has to stop on its own
_RECORD = re.compile(r"\d{6,}\.json")
_IMAGE = re.compile(r"\d{6,}\.jpg")
_LOCK = threading.Lock()
_LIVE: set[subprocess.Popen[bytes]] = set()  # every child still running, stopped when the app exits


@dataclass
class PreviewJob:
    """One preview render: its folder, its size and the child process rendering it."""

    id: str
    graph: Path  # the graph text it renders, written beside its output
    out: Path
    n: int
    process: subprocess.Popen[bytes]
    log: Path  # the child's stderr: its one-line error if it fails
    cancelled_at: float | None = None
    started: float = field(default_factory=time.monotonic)

    def state(self) -> str:
        """running, cancelling, done, failed or cancelled."""
        code = self.process.poll()
        if code is None:
            if self.cancelled_at is None:
                return "running"
            if time.monotonic() - self.cancelled_at > KILL_AFTER:
                _kill_group(self.process)
            return "cancelling"
        _LIVE.discard(self.process)
        if self.cancelled_at is not None:
            return "cancelled"
        return "done" if code == 0 else "failed"

    def finished(self) -> int:
        """Images finished so far (delivered or given up after its re-draws)."""
        records = self.out / "records"
        return sum(1 for f in records.iterdir() if _RECORD.fullmatch(f.name)) if records.is_dir() else 0

    def images(self) -> list[str]:
        """The delivered images so far, in index order (render writes each under a hidden name first)."""
        folder = self.out / "images"
        if not folder.is_dir():
            return []
        return sorted(str(f) for f in folder.iterdir() if _IMAGE.fullmatch(f.name))

    def error(self) -> str:
        """The last line the render printed on stderr: feint's one-line error, or the end of a traceback."""
        try:
            lines = [line for line in self.log.read_text(errors="replace").splitlines() if line.strip()]
        except OSError:
            return ""
        return lines[-1] if lines else ""

    def status(self) -> dict[str, Any]:
        state = self.state()
        return {
            "id": self.id,
            "state": state,
            "n": self.n,
            "finished": self.n if state == "done" else min(self.finished(), self.n),
            "images": self.images(),
            "error": self.error() if state == "failed" else "",
            "seconds": round(time.monotonic() - self.started, 1),
        }

    def cancel(self) -> None:
        if self.process.poll() is None and self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
            self.process.terminate()


def start_preview(
    jobs: dict[str, PreviewJob], folder: Path, graph_text: str, n: int, size: int, seed: int
) -> PreviewJob:
    """Write the graph into `folder` (the app's previews folder) and start rendering it into a new folder
    there; refused while MAX_RUNNING previews are rendering."""
    with _LOCK:
        running = [j for j in jobs.values() if j.state() in ("running", "cancelling")]
        if len(running) >= MAX_RUNNING:
            raise FeintError(f"{len(running)} previews are rendering already: wait for one, or cancel it")
        _prune(jobs)
        job_id = uuid.uuid4().hex[:12]
        hidden = folder / ".graphs"  # hidden: the catalog lists no preview's graph among the user's graphs
        hidden.mkdir(exist_ok=True)
        graph, out, log = hidden / f"{job_id}.yaml", folder / job_id, hidden / f"{job_id}.log"
        graph.write_text(graph_text, encoding="utf-8")
        command = [sys.executable, "-m", "feint", "render", str(graph), "-n", str(n)]
        command += ["--size", str(size), "--seed", str(seed), "-o", str(out), "-q"]
        with log.open("wb") as stderr:
            process = subprocess.Popen(
                command,
                cwd=folder,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,  # its own process group: its workers can be stopped with it
            )
        _LIVE.add(process)
        job = PreviewJob(job_id, graph, out, n, process, log)
        jobs[job_id] = job
        return job


def _prune(jobs: dict[str, PreviewJob]) -> None:
    """Remove the oldest finished previews (folder, graph, log) beyond the KEEP newest."""
    finished = [j for j in jobs.values() if j.state() in ("done", "failed", "cancelled")]
    for job in finished[: max(0, len(finished) - KEEP + 1)]:
        shutil.rmtree(job.out, ignore_errors=True)
        job.graph.unlink(missing_ok=True)
        job.log.unlink(missing_ok=True)
        del jobs[job.id]


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


@atexit.register
def _stop_all() -> None:
    """No render outlives the app: each still running is asked to stop, then killed."""
    for process in list(_LIVE):
        if process.poll() is None:
            process.terminate()
    deadline = time.monotonic() + 5
    for process in list(_LIVE):
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            _kill_group(process)
