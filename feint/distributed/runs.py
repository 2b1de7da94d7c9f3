"""Many runs of one function on Ray: each item a Ray task, the shared data sent once.

The function must be pure (its result depends on the item and the shared data only, as a study run's
does on its config and the cached features), so where a task runs does not change what it returns. The
shared data goes into Ray's object store once and every task reads it from there; a task whose worker
dies is run again by Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from feint.distributed import RETRIES, connect, fetch

Item = TypeVar("Item")
Shared = TypeVar("Shared")
Result = TypeVar("Result")


def run_on_ray(
    work: Callable[[Item, Shared], Result],
    items: Sequence[Item],
    shared: Shared,
    name: Callable[[Item], str],
    again: str,
    address: str | None = None,
) -> Iterator[tuple[Item, Result]]:
    """`work(item, shared)` for every item as a Ray task (one CPU each); yields (item, result) as each
    finishes. `name(item)` and `again` (what the user does next) word the error of a task that fails."""
    if not items:
        return
    ray = connect(address)
    task = ray.remote(num_cpus=1, max_retries=RETRIES)(work)
    stored = ray.put(shared)
    pending = {task.remote(item, stored): item for item in items}
    try:
        while pending:
            [ref], _ = ray.wait(list(pending), num_returns=1)
            item = pending.pop(ref)
            result: Result = fetch(ray, ref, name(item), again)
            yield item, result
    finally:  # interrupted: the tasks not yet finished are dropped, the finished ones were handed back
        for ref in pending:
            ray.cancel(ref, force=True)
