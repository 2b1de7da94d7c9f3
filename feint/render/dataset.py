"""Render a whole dataset: worker processes, progress, resume, and the final COCO/parquet/card files.

Layout of a dataset folder:
    images/000000.jpg ...   the delivered images
    records/000000.json ... one record per finished image (written atomically: the resume log)
    render.json             what was asked for (graph, seed, size, n): a resume must ask the same
    annotations.json        COCO, categories from 1, every image listed
    params.parquet          every sampled parameter, one row per image
    dataset.json            the dataset card (graph, seed, counts, versions, time)
    preview.png             a grid of the first images with their boxes
"""

from __future__ import annotations

import json
import multiprocessing
import multiprocessing.connection
import os
import re
import shutil
import signal
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures import process as futures_process
from concurrent.futures.process import BrokenProcessPool
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import Any

from tqdm import tqdm

from feint.errors import FeintError
from feint.io import write_json_atomic
from feint.render.device import CPU, RenderDevice, resolve_render_device
from feint.render.finalize import finalize
from feint.render.job import PIXELS_VERSION, RenderJob
from feint.render.worker import init_pool_worker, init_ray_worker, record_path, render_index

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# What a render writes at the top of its folder, and the hidden names `feint.io` writes through.
OUTPUT_FILES = ("render.json", "annotations.json", "params.parquet", "dataset.json", "preview.png")
_TEMP = re.compile(r"\..+\.tmp")
_RECORD = re.compile(r"\d{6,}\.json")


class RenderInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) or SIGTERM stopped a render; the workers are gone and the `done` of `n` finished
    images are kept, so --resume carries on. A KeyboardInterrupt, so callers that stop on Ctrl-C still do."""

    def __init__(self, signum: int = signal.SIGINT, done: int = 0, n: int = 0):
        super().__init__(signum, done, n)
        self.signum, self.done, self.n = int(signum), done, n


def render_dataset(job: RenderJob, progress: bool = True) -> dict[str, Any]:
    """Render (or finish rendering) a dataset and write its files; returns the dataset card.

    Ctrl-C or SIGTERM stops the workers at once and raises `RenderInterrupted`; a worker's error is one
    FeintError line; both keep the finished images for --resume. A render that labelled no image at all
    raises a FeintError too (after writing its card: the records say what was tried)."""
    if job.executor == "ray":
        from feint.distributed import connect

        connect(job.address)  # first: ray.init sets a SIGTERM handler of its own, which would replace ours
    device = ray_render_device(job) if job.executor == "ray" else resolve_render_device(job.device_choice)
    _prepare_output(job, device)
    done = {i for i in range(job.n) if record_path(job.out, i).exists()}
    todo = [i for i in range(job.n) if i not in done]
    started = time.perf_counter()
    with _stop_on_signals():  # restored on the way out; until then a second signal is ignored
        try:
            if todo:
                run = _render_on_ray if job.executor == "ray" else _render_locally
                bar_device = f" on {device.describe()}" if device.is_gpu else ""
                with ExitStack() as stack:
                    # a bar stopped half-built prints a traceback when collected: a stop waits until the
                    # bar is whole and will be closed (ended with a newline) before the stop's message
                    with _signals_held():
                        bar = stack.enter_context(
                            tqdm(
                                total=job.n,
                                initial=len(done),
                                unit="img",
                                desc=f"render{bar_device}",
                                disable=not progress,
                                dynamic_ncols=True,
                            )
                        )
                    with closing(run(job, todo, device)) as records:  # closing: workers end with the loop
                        for _ in records:
                            bar.update(1)
            card = finalize(job, time.perf_counter() - started, device)
        except KeyboardInterrupt as stop:
            finished = sum(record_path(job.out, i).exists() for i in range(job.n))
            raise RenderInterrupted(getattr(stop, "signum", signal.SIGINT), finished, job.n) from None
    if not card["images"]:
        render = job.graph.render
        raise FeintError(
            f"{job.out}: all {job.n} images failed: in every one the labelled objects stayed under "
            f"render.min_visible_px pixels after {render.max_redraws} re-draws (render.max_redraws); "
            "make them larger in the frame or lower render.min_visible_px (records kept in records/)"
        )
    return card


def _stop(signum: int, frame: Any) -> None:
    """The first SIGINT or SIGTERM stops the render; any further one is ignored, so a second Ctrl-C cannot
    break (or print a traceback from) the shutdown that keeps the finished images."""
    for s in STOP_SIGNALS:
        signal.signal(s, signal.SIG_IGN)
    raise RenderInterrupted(signum)


def _set_handler(signum: int, handler: Callable[..., Any] | int | None) -> None:
    if handler is not None:  # None: set outside Python, nothing to restore
        signal.signal(signum, handler)


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise `RenderInterrupted` (in the main thread, where Python delivers signals);
    one already ignored (a job started with nohup or `&`) stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in STOP_SIGNALS}
    for s, handler in previous.items():
        if handler is not signal.SIG_IGN:
            signal.signal(s, _stop)
    try:
        yield
    finally:
        for s, handler in previous.items():
            _set_handler(s, handler)


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM are held (blocked) while the body runs and arrive when it ends: for objects
    that a stop in the middle of their construction leaves broken (tqdm's bar then raises from its
    destructor, a traceback after `feint: interrupted`)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, set(STOP_SIGNALS))
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextmanager
def _spawning_workers() -> Iterator[None]:
    """Start worker processes with SIGINT blocked, a mask they keep through exec: the Ctrl-C a terminal
    sends the whole process group then reaches only this process, which stops the workers itself, even one
    still importing Blender (it would print a traceback). Here SIGINT and SIGTERM wait until the workers
    are started, so none is left half-started, and neither is lost."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    deferred: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _: deferred.append(signum)) for s in STOP_SIGNALS}
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})  # not SIGTERM: that ends a worker
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})  # one pending is deferred now
        for s, handler in previous.items():
            _set_handler(s, handler)
    if deferred:
        signal.raise_signal(deferred[0])


def ray_render_device(job: RenderJob) -> RenderDevice:
    """The device of a render on Ray, from the cluster's resources (the driver may have no GPU of its own):
    a GPU choice on a cluster with GPUs renders one actor per GPU, each resolving the choice on its node;
    `auto` on a cluster without GPUs renders on CPUs; a named GPU backend there is an error."""
    import ray

    choice = job.device_choice
    gpus = int(ray.cluster_resources().get("GPU", 0))
    if choice == "cpu" or (choice == "auto" and not gpus):
        return CPU
    if not gpus:
        raise FeintError(f"--device {choice}: the Ray cluster has no GPUs; use --device auto or cpu")
    return RenderDevice(choice.upper(), tuple(f"ray GPU {k}" for k in range(gpus)))


def _render_on_ray(
    job: RenderJob, todo: list[int], device: RenderDevice
) -> Generator[dict[str, Any], None, None]:
    """Render images `todo` on `job.workers` Ray actors (`feint.distributed.actors`), one Blender scene
    each (on a GPU device: one actor per cluster GPU); yields each record as it finishes. With a URL sink
    the records are also kept here, for `finalize`."""
    from feint.distributed.actors import map_on_actors

    choice = job.device_choice if device.is_gpu else "cpu"
    args = (job.graph, job.seed, job.size, job.sink or str(job.out), choice)
    workers = min(job.workers, len(device.gpus)) if device.is_gpu else job.workers
    images = map_on_actors(
        init_ray_worker,
        args,
        todo,
        workers,
        job.recycle_every,
        job.address,
        "image",
        "run again with --resume",
        gpu=device.is_gpu,
    )
    with closing(images):  # closed: the actors stop; the finished images stay for --resume
        for record in images:
            if job.sink:
                write_json_atomic(record_path(job.out, record["index"]), record, indent=None)
            yield record


def _render_locally(
    job: RenderJob, todo: list[int], device: RenderDevice
) -> Generator[dict[str, Any], None, None]:
    """Render images `todo` in pools of spawned processes (on a GPU device: one per GPU); yields each
    record as it finishes.

    Workers are recycled by giving each pool at most `recycle_every` images per worker and then starting a
    fresh pool: `max_tasks_per_child` would do it in one pool, but on Python 3.11 a pool whose last worker
    retires that way never starts its replacement and the render hangs (at image 250 with one worker).
    """
    workers = len(device.gpus) if device.is_gpu else job.workers
    threads = job.threads or max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")
    chunk = max(1, job.recycle_every * workers)
    for start in range(0, len(todo), chunk):
        slots = context.Queue()
        for slot in range(workers):
            slots.put(slot)
        pool = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=init_pool_worker,
            initargs=(job.graph, job.seed, job.size, str(job.out), threads, device, slots),
        )
        try:
            with _spawning_workers():  # submit starts the processes
                futures = {pool.submit(render_index, i): i for i in todo[start : start + chunk]}
            for future in as_completed(futures):
                yield _result(future, futures[future])
            pool.shutdown()
        except BaseException:  # Ctrl-C, SIGTERM, a worker's error, or the caller stopped early
            _stop_pool(pool)
            raise


def _result(future: Future, index: int) -> dict[str, Any]:
    """The record of a finished image, or the worker's failure as one FeintError line."""
    try:
        return future.result()
    except FeintError as err:
        reason = str(err)
    except BrokenProcessPool:
        reason = f"image {index}: its worker process died (out of memory, or killed)"
    except Exception as err:  # Blender's, or a bug: FEINT_DEBUG=1 shows the worker's traceback
        if os.environ.get("FEINT_DEBUG"):
            raise
        reason = f"image {index} failed in its worker: {type(err).__name__}: {err}"
    raise FeintError(f"{reason}; the finished images are kept: run again with --resume")


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """End a pool now: cancel the images not started and kill the workers, mid-image if need be (an image
    and its record are each written atomically, the image first, so nothing half-done is left). A plain
    `shutdown` would wait for every image already handed to a worker: tens of seconds."""
    processes = list((pool._processes or {}).values())  # no public handle before 3.14's terminate_workers
    pool.shutdown(wait=False, cancel_futures=True)
    for p in processes:
        p.terminate()
    ended = multiprocessing.connection.wait([p.sentinel for p in processes], timeout=1.0)
    for p in processes:
        if p.sentinel not in ended:
            p.kill()
    # Let the pool's manager thread see its workers gone and close its wake-up pipe now: left running, it
    # can close the pipe while Python's exit handler writes to it (Python 3.11 checks, then writes, without
    # a lock), and the interpreter's exit prints an OSError traceback after feint's last line.
    manager: threading.Thread | None = getattr(pool, "_executor_manager_thread", None)  # private too
    if manager is not None:
        manager.join(timeout=1.0)
        # On a busy machine it may still be running: keep the exit handler off its pipe altogether (the
        # thread ends by itself, its workers gone, and the interpreter still waits for it).
        getattr(futures_process, "_threads_wakeups", {}).pop(manager, None)


def _prepare_output(job: RenderJob, device: RenderDevice = CPU) -> None:
    """Check `job.out` before any work: new or empty, a render to --resume (same spec), or one that never
    finished an image (a failed start, Ctrl-C at once, every image failed), which starts over. A folder
    without feint's render.json is never written into."""
    out = job.out
    if out.exists() and not out.is_dir():
        raise FeintError(f"{out}: output path is a file, expected a folder")
    spec_path = out / "render.json"
    if not job.resume and out.is_dir() and _never_finished(out):
        _start_over(out)
    if out.is_dir() and any(out.iterdir()):
        if not job.resume:
            raise FeintError(
                f"{out}: output folder is not empty; pass --resume to finish it, or pick a new folder"
            )
        if not spec_path.exists():
            raise FeintError(f"{out}: not a feint render folder (no render.json); pick an empty folder")
        previous = json.loads(spec_path.read_text())
        previous.setdefault("pixels", 1)  # written before the pixel version was recorded
        if previous["pixels"] != PIXELS_VERSION:
            raise FeintError(
                f"{out}: rendered by a feint whose renderer draws other pixels (version "
                f"{previous['pixels']}, now {PIXELS_VERSION}); a resume would mix the two: render into a new "
                "folder"
            )
        current = json.loads(json.dumps(job.spec(device.family)))
        before = previous.get("device", "cpu")
        if before != device.family:
            raise FeintError(
                f"{out}: rendered on the {before.upper()}, now on the {device.family.upper()} "
                f"({device.describe()}); a resume would mix their pixels: resume with --device "
                f"{'cpu' if before == 'cpu' else 'auto'}, or render into a new folder"
            )
        changed = [k for k in current if k != "n" and previous.get(k) != current[k]]
        if "graph" in changed and _same_graph(previous.get("graph"), job.graph):
            changed.remove("graph")  # written by an older feint: fields added since take their defaults
        if changed:
            raise FeintError(f"{out}: --resume with different {', '.join(changed)} than the first run")
        _remove_temp_files(out)
        if current["n"] != previous.get("n"):  # image i depends on (seed, i) only: n may grow or shrink
            write_json_atomic(spec_path, current)
        return
    write_json_atomic(spec_path, job.spec(device.family))


def _never_finished(out: Path) -> bool:
    """Whether `out` is a render folder holding no finished image and nothing but what feint writes."""
    if not (out / "render.json").is_file():
        return False
    for entry in out.iterdir():
        if entry.name in OUTPUT_FILES or _TEMP.fullmatch(entry.name):
            continue
        if entry.name not in ("images", "records") or entry.is_symlink() or not entry.is_dir():
            return False
        for f in entry.iterdir():
            failed_record = entry.name == "records" and _RECORD.fullmatch(f.name) and _failed(f)
            if not (_TEMP.fullmatch(f.name) or failed_record):
                return False
    return True


def _failed(record: Path) -> bool:
    try:
        return bool(json.loads(record.read_text()).get("failed"))
    except (OSError, ValueError, AttributeError):
        return False


def _start_over(out: Path) -> None:
    """Empty a folder `_never_finished` accepted: its failed records and leftovers would else be mixed
    into the new render (whose graph may differ)."""
    for entry in out.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def _remove_temp_files(out: Path) -> None:
    """Hidden temporary files of a worker killed mid-write (`feint.io` renames them into place when done):
    the resumed render writes those files again."""
    for folder in (out, out / "images", out / "records"):
        if folder.is_dir():
            for f in folder.iterdir():
                if _TEMP.fullmatch(f.name) and f.is_file():
                    f.unlink(missing_ok=True)


def _same_graph(recorded: Any, graph: Any) -> bool:
    """Whether a graph recorded in render.json reads, under today's schema, as `graph` (a field added to
    the schema since has a default that keeps the old images: the folder can still be resumed)."""
    from feint.graph.overrides import validate_graph

    if not isinstance(recorded, dict):
        return False
    try:
        return validate_graph(recorded) == graph
    except FeintError:
        return False
