"""Where feint's work runs: `local` (a process pool on this machine, the default) or `ray` (a Ray cluster).

Renders and study runs are deterministic functions of their inputs (image i of (seed, i); a run of its
config and data), so an executor only decides *where* each piece runs: the outputs are the same bytes.
Ray is an optional extra (`pip install 'feint[ray]'`); nothing here imports it until it is asked for.
"""

from __future__ import annotations

import logging
from types import ModuleType
from typing import Any

from feint.errors import FeintError

EXECUTORS = ("local", "ray")
RETRIES = 3  # re-runs of a render or study run whose Ray worker died (killed, out of memory, node lost)


def check_executor(executor: str) -> str:
    if executor not in EXECUTORS:
        raise FeintError(f"unknown executor {executor!r}: use one of {', '.join(EXECUTORS)}")
    return executor


def connect(address: str | None = None) -> ModuleType:
    """The `ray` module, connected: to `address` ("auto": the cluster `ray start` made here; "ray://host:
    10001": a remote one), or, without one, to a Ray instance started on this machine. An already
    initialised Ray (a test's `ray.init(num_cpus=2)`, a notebook) is used as it is."""
    try:
        import ray
    except ImportError:
        raise FeintError("--executor ray needs Ray: pip install 'feint[ray]'") from None
    if not ray.is_initialized():
        try:
            # No dashboard (nothing to serve it to), no worker logs or INFO lines (tqdm owns the terminal).
            ray.init(
                address=address, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING
            )
        except ConnectionError as err:
            raise FeintError(f"cannot reach the Ray cluster at {address!r}: {err}") from None
    return ray


def cluster_cpus(address: str | None = None) -> int:
    """CPUs of the whole cluster: the default number of render workers with `--executor ray`."""
    return max(1, int(connect(address).cluster_resources().get("CPU", 1)))


def fetch(ray: ModuleType, ref: Any, what: str, again: str) -> Any:
    """`ray.get(ref)`, with the two failures a user can act on as one-line FeintErrors: a FeintError raised
    in the worker, and a worker gone for good (died past its retries, or could not start: the last line of
    Ray's report then says why, e.g. a missing s3fs on that machine)."""
    lost = ray.exceptions
    try:
        return ray.get(ref)
    except lost.RayTaskError as err:
        if isinstance(err.cause, FeintError):
            raise err.cause from None
        raise
    except (lost.RayActorError, lost.WorkerCrashedError, lost.NodeDiedError, lost.OutOfMemoryError) as err:
        lines = str(err).strip().splitlines() or [type(err).__name__]
        why = (lines[-1] if "creation task" in lines[0] else lines[0]).strip().rstrip(".")
        raise FeintError(
            f"{what}: its Ray worker is gone ({why}; Ray retried it up to {RETRIES} times); "
            f"finished work is kept: {again}"
        ) from None
