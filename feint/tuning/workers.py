"""Parallel tuning: worker processes, each running trials until the shared SQLite study has enough."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from pathlib import Path

from feint.errors import FeintError
from feint.training.device import Devices
from feint.tuning.settings import TuneSettings
from feint.tuning.tuner import Tuner


def _worker(settings: TuneSettings, out: Path, cache: Path | None, threads: int, devices: Devices) -> None:
    """Entry point of a worker process."""
    import torch

    torch.set_num_threads(threads)
    Tuner(settings, out, cache, threads, devices).work()


def run_workers(
    settings: TuneSettings,
    out: Path,
    cache: Path | None,
    threads: int,
    tick: Callable[[], None],
    devices: Devices | None = None,
) -> None:
    """`workers` processes, each running trials until the study has enough; a failed worker stops all.
    `tick` is called about once a second (the progress bar). `devices`: where they render and score."""
    context = multiprocessing.get_context("spawn")
    args = (settings, out, cache, threads, devices or Devices())
    procs = [context.Process(target=_worker, args=args, daemon=False) for _ in range(settings.workers)]
    for p in procs:
        p.start()
    try:
        while any(p.is_alive() for p in procs):
            time.sleep(1.0)
            tick()
            if any(p.exitcode not in (None, 0) for p in procs):
                break
    finally:
        for p in procs:
            if p.is_alive():
                p.terminate()
            p.join()
    tick()
    failed = [p.exitcode for p in procs if p.exitcode != 0]
    if failed:
        raise FeintError(f"a tuning worker failed (exit codes {failed}); run the command again to resume")
