"""The steps a study can run, by name: `@register_step("zero_shot", ...)` makes a function a step that a
study file lists in `steps:` (in the style of timm's `register_model`).

The study file's `steps`, the error naming the known steps and the runner all read this registry; the
built-in steps register themselves when `feint.studies` is imported (feint/studies/steps.py). A study
runs its chosen steps, and the steps they need, in the order they were registered: each step may use what
the ones before it found (the epoch fit sets the epochs of every later run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from feint.errors import FeintError

# A step is called with the study's `StudyContext` (feint/studies/context.py). It is not named here: the
# context holds the `StudySpec`, whose `steps` are checked against this registry.
Context = Any


def no_runs(ctx: Context) -> int:
    return 0


@dataclass(frozen=True)
class StudyStep:
    """One registered step: its name in study files, the function that runs it, the steps it needs (run
    before it even when not chosen), whether it needs the study's renders, the id of the report section
    its results feed (None: none), and how many runs it trains (for the progress bar)."""

    name: str
    run: Callable[[Context], None]
    needs: tuple[str, ...] = ()
    renders: bool = False
    section: str | None = None
    planned: Callable[[Context], int] = field(default=no_runs)


STEPS: dict[str, StudyStep] = {}


def register_step(
    name: str,
    *,
    needs: tuple[str, ...] = (),
    renders: bool = False,
    section: str | None = None,
    planned: Callable[[Context], int] = no_runs,
) -> Callable[[Callable[[Context], None]], Callable[[Context], None]]:
    """Register the decorated function as the study step `name`; the steps it `needs` must be registered
    already (so they run before it)."""

    def register(run: Callable[[Context], None]) -> Callable[[Context], None]:
        if name in STEPS:
            raise ValueError(f"study step {name!r} is registered already")
        unknown = [n for n in needs if n not in STEPS]
        if unknown:
            raise ValueError(f"study step {name!r} needs {', '.join(unknown)}: register those first")
        STEPS[name] = StudyStep(name, run, needs, renders, section, planned)
        return run

    return register


def chosen_steps(names: Iterable[str]) -> list[StudyStep]:
    """The steps `names` asks for and every step they need, in registration order (the order they run)."""
    wanted: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name not in STEPS:
            raise FeintError(f"steps: {unknown_step(name)}")
        if name not in wanted:
            wanted.add(name)
            todo.extend(STEPS[name].needs)
    return [step for name, step in STEPS.items() if name in wanted]


def unknown_step(name: str) -> str:
    """The error for a step name no step is registered under: it lists the known ones."""
    return f"{name!r} is not a study step (known: {', '.join(STEPS)})"
