"""Rendering on Ray: one actor per worker, each a persistent Blender scene, fed one image index at a time.

An actor is what a pool process is locally: `init_worker` once, then `render_index` per image, writing
the image and its record atomically into the output (a folder every node mounts, or an fsspec URL).
When an actor's process dies (killed, out of memory, node lost) Ray starts a new one and re-sends the
image it was rendering; image i depends on (seed, i) only, so a retried image is the same bytes and its
atomic writes simply replace a half-finished attempt: no image is lost or listed twice.
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from feint.distributed import RETRIES, connect, fetch
from feint.graph.loader import Graph
from feint.io import write_json_atomic
from feint.render.worker import init_worker, record_path, render_index

if TYPE_CHECKING:
    from feint.render.dataset import RenderJob


class RenderWorker:
    """The actor class (wrapped by `ray.remote` in `render_on_ray`): one Blender thread, one CPU."""

    def __init__(self, graph: Graph, seed: int, size: int, sink: str):
        from feint.distributed.storage import Remote, is_url

        self.remote = Remote(sink) if is_url(sink) else None
        # With a URL, Blender writes into a scratch folder on this node and `deliver` uploads the files.
        self.out = Path(tempfile.mkdtemp(prefix="feint-render-") if self.remote else sink)
        init_worker(graph, seed, size, str(self.out), threads=1)

    def render(self, index: int) -> dict[str, Any]:
        record = render_index(index)
        if self.remote is not None:
            self.remote.deliver(self.out, record)
        return record


def render_on_ray(job: RenderJob, todo: list[int]) -> Iterator[dict[str, Any]]:
    """Render images `todo` on `job.workers` actors; yields each record as it finishes (any order).

    Each actor holds one image at a time (the next is sent when it returns), so a fast node takes more
    images, and an actor is replaced by a fresh one after `job.recycle_every` images, like a pool process.
    """
    ray = connect(job.address)
    actor_class = ray.remote(num_cpus=1, max_restarts=RETRIES, max_task_retries=RETRIES)(RenderWorker)
    args = (job.graph, job.seed, job.size, job.sink or str(job.out))
    queue = deque(todo)
    running: dict[Any, tuple[Any, int, int]] = {}  # result ref -> (actor, image index, images it rendered)

    def send(actor: Any, rendered: int) -> None:
        index = queue.popleft()
        running[actor.render.remote(index)] = (actor, index, rendered)

    try:
        for _ in range(min(job.workers, len(queue))):
            send(actor_class.remote(*args), 0)
        while running:
            [ref], _ = ray.wait(list(running), num_returns=1)
            actor, index, rendered = running.pop(ref)
            record = fetch(ray, ref, f"image {index}", "run again with --resume")
            if job.sink:  # the driver's local copy of the records, for `finalize`
                write_json_atomic(record_path(job.out, index), record, indent=None)
            yield record
            rendered += 1
            if not queue:
                ray.kill(actor, no_restart=True)
                continue
            if rendered >= job.recycle_every:
                ray.kill(actor, no_restart=True)
                actor, rendered = actor_class.remote(*args), 0
            send(actor, rendered)
    finally:  # interrupted (Ctrl-C, an error): stop the actors; finished images stay for --resume
        for actor, _, _ in running.values():
            ray.kill(actor, no_restart=True)
