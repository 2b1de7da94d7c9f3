"""What runs inside a render worker process: one persistent Blender scene, one image per task.

A task renders image `index` start to finish (labelling the objects that show at least
`min_visible_px` pixels and `min_visible_fraction` of their silhouette, re-drawing samples where none
does),
writes the image and its record atomically, and returns the record. Because every random choice
comes from (dataset seed, index, attempt), the bytes do not depend on which worker did the task.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from feint.errors import FeintError
from feint.graph.loader import Graph
from feint.io import write_bytes_atomic, write_json_atomic
from feint.render.device import CPU, RenderDevice, resolve_render_device
from feint.render.labels import annotation_from_mask
from feint.render.post import finish
from feint.render.visibility import visible_fraction
from feint.scene.sampler import make_sampler
from feint.scene.seeds import stream

_STATE: dict[str, Any] = {}
# An image's stages, in order: drawing its parameters, updating the Blender scene, Cycles (scene sync, BVH
# build, path tracing, denoising, EXR write), reading the passes back, pixel effects (blur, haze, noise,
# crop, JPEG encoding), masks to COCO labels, writing the JPEG.
STAGES = ("sample", "scene", "cycles", "readback", "post", "labels", "write")


class WorkerError(FeintError):
    """A worker that could not start (Blender, the graph's assets): raised by each of its tasks, one line."""


def init_worker(
    graph: Graph,
    seed: int,
    size: int,
    out_dir: str,
    threads: int,
    device: RenderDevice | str = CPU,
    slot: int = 0,
) -> None:
    """Process initializer: build Blender once for all the tasks this process will run, on `device` (a
    choice such as "auto" is resolved here, on this machine: a Ray node's own GPUs), GPU number `slot`.

    A failure is kept and raised by every task instead: raised here, a process pool would only log a
    traceback and report a broken pool, never why."""
    _silence_stdout()
    try:
        from feint.render.apply import BlenderScene

        if isinstance(device, str):
            device = resolve_render_device(device)
        _STATE.update(
            sampler=make_sampler(graph, seed, size),
            scene=BlenderScene(threads=threads, device=device, slot=slot),
            out=Path(out_dir),
            max_redraws=graph.render.max_redraws,
        )
    except Exception as err:  # reported by render_index, as one line
        reason = str(err) if isinstance(err, FeintError) else f"{type(err).__name__}: {err}"
        _STATE["error"] = f"the render worker could not start: {reason}"


def init_pool_worker(
    graph: Graph, seed: int, size: int, out_dir: str, threads: int, device: RenderDevice, slots: Any
) -> None:
    """`init_worker` for a local pool process, which ignores SIGINT: a terminal's Ctrl-C goes to the whole
    process group, and the parent, not each worker, decides what it means (stop, keep the finished images).
    The parent spawns its workers with SIGINT blocked, so none arrives before this. On a GPU device each
    process takes its GPU number from the queue `slots` (one process per GPU)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    slot = slots.get() if device.is_gpu else 0
    init_worker(graph, seed, size, out_dir, threads, device, slot)


def init_ray_worker(
    graph: Graph, seed: int, size: int, sink: str, device: str = "cpu"
) -> Callable[[int], dict[str, Any]]:
    """`init_worker` in a Ray actor (one Cycles thread, one CPU, or the one GPU Ray gave it: Ray makes it
    the actor's only visible device); returns what renders one image there.

    `sink` is the output: a folder every node mounts, or an fsspec URL; then Blender writes into a scratch
    folder on this node and each image, then its record (it marks the image done), is uploaded."""
    from feint.distributed.storage import Remote, is_url

    if not is_url(sink):
        init_worker(graph, seed, size, sink, threads=1, device=device)
        return render_index
    remote, staging = Remote(sink), Path(tempfile.mkdtemp(prefix="feint-render-"))
    init_worker(graph, seed, size, str(staging), threads=1, device=device)

    def render_and_deliver(index: int) -> dict[str, Any]:
        record = render_index(index)
        image = [] if record["failed"] else [record["file_name"]]
        remote.deliver(staging, [*image, str(record_path(Path(), index))])
        return record

    return render_and_deliver


def _silence_stdout() -> None:
    """Blender logs every saved file on stdout; in a worker that would tear the parent's progress bar."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)


def record_path(out_dir: Path, index: int) -> Path:
    return out_dir / "records" / f"{index:06d}.json"


def image_name(index: int) -> str:
    return f"images/{index:06d}.jpg"


def render_index(index: int) -> dict[str, Any]:
    """Render image `index` into the dataset folder; return its record (also written to records/).

    The image is written before its record, each atomically: a worker killed at any point leaves no record
    without its image, and at most a hidden temporary file (removed on --resume)."""
    if "error" in _STATE:
        raise WorkerError(_STATE["error"])
    sampler = _STATE["sampler"]
    out: Path = _STATE["out"]
    started = time.perf_counter()
    record: dict[str, Any] = {"index": index, "failed": True}
    stages = dict.fromkeys(STAGES, 0.0)  # summed over re-draws: where this image's time went
    for attempt in range(_STATE["max_redraws"] + 1):
        clock = time.perf_counter()
        desc = sampler.sample(index, attempt)
        stages["sample"] += time.perf_counter() - clock
        passes = _STATE["scene"].render(desc)
        for stage, seconds in _STATE["scene"].timing.items():
            stages[stage] += seconds
        clock = time.perf_counter()
        # Too few pixels, or too small a share of the object, to annotate fairly: left unlabelled (a ship
        # is its image's only label: re-drawn).
        shown = {o.pass_index: int((passes.index == o.pass_index).sum()) for o in desc.labelled}
        silhouettes = _STATE["scene"].silhouettes()
        visibility = {
            o.pass_index: visible_fraction(shown[o.pass_index], silhouettes.get(o.pass_index))
            for o in desc.labelled
        }
        labelled = [
            o
            for o in desc.labelled
            if shown[o.pass_index] >= desc.min_visible_px
            and (visibility[o.pass_index] is None or visibility[o.pass_index] >= desc.min_visible_fraction)
        ]
        if not labelled:
            continue
        result = finish(
            passes.rgb,
            passes.index,
            passes.depth,
            desc.atmosphere,
            desc.post,
            [o.pass_index for o in labelled],
            stream(desc.seed, "post"),
        )
        stages["post"] += time.perf_counter() - clock
        clock = time.perf_counter()
        anns = [annotation_from_mask(result.index == o.pass_index, o.label) for o in labelled]
        stages["labels"] += time.perf_counter() - clock
        if any(a is None for a in anns):
            continue
        for ann, o in zip(anns, labelled, strict=True):
            share = visibility[o.pass_index]
            if ann is not None and share is not None:
                ann["visibility"] = round(share, 3)
        clock = time.perf_counter()
        write_bytes_atomic(out / image_name(index), result.jpeg)
        stages["write"] += time.perf_counter() - clock
        record = {
            "index": index,
            "failed": False,
            "seed": desc.seed,
            "attempt": attempt,
            "file_name": image_name(index),
            "width": desc.post.out_width,
            "height": desc.post.out_height,
            "annotations": anns,
            "params": {k: _plain(v) for k, v in desc.params.items()},
        }
        break
    record["redraws"] = attempt
    record["seconds"] = round(time.perf_counter() - started, 4)
    record["stages"] = {stage: round(seconds, 4) for stage, seconds in stages.items()}
    write_json_atomic(record_path(out, index), record, indent=None)
    return record


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
