"""Study runs on Ray: the runs of one study step, sent all at once as Ray tasks.

A run is a pure function of its config and the study data (`feint.studies.runs.execute`), so where it
runs does not change its result. The data (the cached feature matrices) goes into Ray's object store
once and every task reads it from there; a task whose worker dies is run again by Ray.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from feint.distributed import RETRIES, connect, fetch
from feint.studies.data import StudyData
from feint.studies.runs import RunConfig, execute


def execute_on_ray(
    cfgs: Sequence[RunConfig], data: StudyData, address: str | None = None
) -> Iterator[tuple[RunConfig, dict[str, Any]]]:
    """Run every config as a Ray task (one CPU each); yields (config, result) as each finishes."""
    if not cfgs:
        return
    ray = connect(address)
    task = ray.remote(num_cpus=1, max_retries=RETRIES)(execute)
    shared = ray.put(data)
    pending = {task.remote(cfg, shared): cfg for cfg in cfgs}
    try:
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            cfg = pending.pop(ref)
            result = fetch(ray, ref, f"study run {cfg.key()}", "run the study again to resume")
            yield cfg, result
    finally:  # interrupted: the runs not yet finished are dropped, the finished ones are saved
        for ref in pending:
            ray.cancel(ref, force=True)
