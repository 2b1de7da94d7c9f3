"""Work on Ray actors: a pool of persistent workers, each set up once, then fed one item at a time.

The executor knows nothing of the work: the caller passes `setup` (run once in each actor, returning the
function that handles one item) and the items. This is what a process pool is locally (an initializer,
then one task per item). When an actor's process dies (killed, out of memory, node lost) Ray starts a new
one and re-sends the item it held: the work must be a deterministic function of the item, written
atomically, so a retried item gives the same result and nothing is lost or done twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Sequence
from typing import Any, Generic, TypeVar

from feint.distributed import RETRIES, connect, fetch

Item = TypeVar("Item")
Result = TypeVar("Result")


class Worker(Generic[Item, Result]):
    """The actor class (wrapped by `ray.remote` in `map_on_actors`): `setup(*args)` once, then `run` per
    item (Ray titles its process `ray::Worker.run` while it works)."""

    def __init__(self, setup: Callable[..., Callable[[Item], Result]], args: tuple[Any, ...]):
        self.work = setup(*args)

    def run(self, item: Item) -> Result:
        return self.work(item)


def map_on_actors(
    setup: Callable[..., Callable[[Item], Result]],
    args: tuple[Any, ...],
    items: Sequence[Item],
    workers: int,
    recycle_every: int,
    address: str | None,
    label: str,
    again: str,
    gpu: bool = False,
) -> Generator[Result, None, None]:
    """Handle `items` on `workers` actors (one CPU each, and one GPU each with `gpu`: Ray then places an
    actor only where a GPU is free and makes it the actor's only visible one); yields each result as it
    finishes (any order).

    Each actor holds one item at a time (the next is sent when it returns), so a fast node takes more, and
    an actor is replaced by a fresh one after `recycle_every` items (memory stays flat). A failure names
    the item as f"{label} {item}" and ends with `again`, what the user can do about it. Closing the
    generator (an interrupt, an error) stops the actors; the finished items' work is kept.
    """
    ray = connect(address)
    actor_class = ray.remote(
        num_cpus=1, num_gpus=1 if gpu else 0, max_restarts=RETRIES, max_task_retries=RETRIES
    )(Worker)
    queue = deque(items)
    running: dict[Any, tuple[Any, Item, int]] = {}  # result ref -> (actor, item, items it handled)

    def send(actor: Any, handled: int) -> None:
        item = queue.popleft()
        running[actor.run.remote(item)] = (actor, item, handled)

    try:
        for _ in range(min(workers, len(queue))):
            send(actor_class.remote(setup, args), 0)
        while running:
            [ref], _ = ray.wait(list(running), num_returns=1)
            actor, item, handled = running.pop(ref)
            yield fetch(ray, ref, f"{label} {item}", again)
            handled += 1
            if not queue:
                ray.kill(actor, no_restart=True)
                continue
            if handled >= recycle_every:
                ray.kill(actor, no_restart=True)
                actor, handled = actor_class.remote(setup, args), 0
            send(actor, handled)
    finally:
        for actor, _, _ in running.values():
            ray.kill(actor, no_restart=True)
