"""Helpers the command modules share: option declarations, comma lists, pydantic checks as one-line errors."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

import typer
from pydantic import BaseModel, ValidationError

from feint.errors import FeintError


def opt(*names: str, help: str, **kw: Any) -> Any:
    """A typer option with its help text (keyword-only, so every option says what it does)."""
    return typer.Option(*names, help=help, **kw)


# Options several commands declare alike (`feint train`, `feint detect train`, `feint eval`, ...).
TrainClasses = Annotated[
    str | None,
    opt(
        "--classes", help="Train on these classes (a,b,c), in this order (default: all classes of the data)."
    ),
]
DataFormat = Annotated[str | None, opt("--format", help="Dataset format if not detected.")]
Device = Annotated[
    str | None,
    opt(
        "--device",
        help="auto (default: a CUDA GPU where torch sees one, else the CPU), cpu, cuda, cuda:N or mps "
        "(Apple).",
    ),
]
Resume = Annotated[bool, opt("--resume", help="Continue the interrupted run in OUT.")]
Quiet = Annotated[bool, opt("--quiet", "-q", help="No progress bars.")]
Overwrite = Annotated[
    bool, opt("--overwrite", help="Replace an earlier output of feint's at -o (files you added there stay).")
]
Align = Annotated[
    str | None,
    opt(
        "--align",
        help="Domain alignment of render and real features: match (renders moved onto the photos' "
        "per-feature mean and std), centre (each on its own mean), auto (match for renders alone, centre "
        "with real photos in training) or none. Default: the study file's; auto elsewhere.",
    ),
]


class TrackerKind(StrEnum):
    """`--tracker`: where a command that trains logs its runs (feint/tracking.py)."""

    mlflow = "mlflow"
    wandb = "wandb"
    none = "none"


def _tracker_kind(value: Any) -> TrackerKind:
    """A --tracker value; a bad one is feint's one-line error (click's own would add a usage block)."""
    if isinstance(value, TrackerKind):
        return value
    try:
        return TrackerKind(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(k.value for k in TrackerKind)
        raise FeintError(f"--tracker {value!r}: pick one of {choices}") from None


# Off by default: the run folder already holds the config, every epoch's metrics and the curves, and a
# tracker costs seconds per command (importing MLflow, starting W&B's service) and files the user did not
# ask for. The same default in every command that trains, so a flag means the same everywhere.
TrackerChoice = Annotated[
    TrackerKind,
    opt(
        "--tracker",
        help="Also log runs to mlflow (a SQLite store in OUT: mlflow.db) or wandb (Weights & Biases, "
        "offline in OUT/wandb unless WANDB_MODE is set; `wandb sync` uploads), or none.",
        parser=_tracker_kind,
    ),
]
TRACKER_DEFAULT = TrackerKind.none


def alignment(value: str | None) -> Any:
    """An --align value checked (None stays None: the caller's default)."""
    from feint.training.align import alignment_of

    if value is None:
        return None
    try:
        return alignment_of(value)
    except ValueError as err:
        raise FeintError(f"--align: {err}") from None


# numpy's legacy seeding takes 0..2**32-1; torch and numpy's Generator take more, feint keeps to the least.
SEED_MAX = 2**32 - 1


def comma_list(text: str | None) -> list[str]:
    """'a, b,,c' -> ['a', 'b', 'c']."""
    return [t.strip() for t in (text or "").split(",") if t.strip()]


def validated(model: type[BaseModel], values: dict[str, Any]) -> Any:
    """The options checked by `model`; the first problem becomes '--option: what is wrong'."""
    try:
        return model(**values)
    except ValidationError as err:
        first = err.errors()[0]
        names = getattr(model, "OPTION_NAMES", {})  # fields named otherwise than their option
        name = str(first["loc"][0]) if first["loc"] else None
        field = (names.get(name) or "--" + name.replace("_", "-")) if name else "options"
        raise FeintError(f"{field}: {first['msg']}") from None


# The render device names of feint.graph.schema.RenderDeviceName, written again rather than imported: the
# schema takes half a second to import, and `feint --help` must stay fast.
DeviceChoice = Literal["auto", "cpu", "cuda", "optix", "hip", "oneapi", "metal"]

# `feint render`, `study run`, `tune`, `ablate`: where Cycles renders (feint/render/device.py).
RenderDeviceOption = Annotated[
    DeviceChoice | None,
    opt(
        "--device",
        help="Where Cycles renders: auto (a GPU where Cycles finds one, else the CPU), cpu, or a GPU backend "
        "(one render process per GPU). Default: the graph's render.device (auto).",
    ),
]


# `feint study run`, `tune`, `ablate`: one device for their renders and their torch work (features, heads,
# fine-tuning); feint/training/device.py `resolve_devices` maps a name onto both.
WorkDeviceOption = Annotated[
    DeviceChoice | None,
    opt(
        "--device",
        help="Where Cycles renders and torch computes features and trains: auto (a GPU where there is one, "
        "else the CPU), cpu, or a GPU backend: cuda, optix or hip (torch on the CUDA or ROCm GPU), oneapi "
        "(torch on the CPU) or metal (torch on mps). One GPU of several: set CUDA_VISIBLE_DEVICES. Default: "
        "auto, Cycles as the graph's render.device says.",
    ),
]
