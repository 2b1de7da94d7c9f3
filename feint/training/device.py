"""`resolve_device(name)`: a --device value checked against this machine, before any work starts.

Every command that runs a network (train, eval, predict, detect train|predict|eval) asks here, so that
`--device cuda` on a machine without CUDA, `--device cuda:3` on a one-GPU machine or a typo such as
`--device gpu0` is one clear line rather than a torch traceback minutes into a run. The commands that
render and train (study run, tune, ablate) ask `resolve_devices`: one name for Cycles and torch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from feint.errors import FeintError

if TYPE_CHECKING:
    import torch

ACCEPTED = "auto, cpu, cuda, cuda:N (N counts from 0) or mps"


def resolve_device(name: str | None, option: str = "--device") -> str:
    """The device as torch names it ('cpu', 'cuda', 'cuda:1', 'mps'); a FeintError if this machine has no
    such device or the name is not one. No name is "auto": the first CUDA GPU where torch sees one, else
    the CPU (Apple's MPS only when named: some operations fall back to the CPU there)."""
    import torch

    text = (name or "auto").strip().lower()
    if text == "auto":
        return "cuda" if torch.cuda.is_available() and torch.cuda.device_count() > 0 else "cpu"
    if text == "cpu":
        return "cpu"
    found = re.fullmatch(r"cuda(?::(\d+))?", text)
    if found:
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            built = "a CPU-only build of torch" if torch.version.cuda is None else "no CUDA device visible"
            raise FeintError(f"{option} {name}: this machine has no CUDA device ({built}); use {option} cpu")
        if found[1] is not None and int(found[1]) >= count:
            have = ", ".join(f"cuda:{k}" for k in range(count))
            raise FeintError(
                f"{option} {name}: this machine has {count} CUDA device{'s' if count > 1 else ''} ({have})"
            )
        return text if found[1] is None else f"cuda:{int(found[1])}"
    if text == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise FeintError(
                f"{option} {name}: Apple's MPS is not available on this machine; use {option} cpu"
            )
        return "mps"
    raise FeintError(f"{option} {name!r}: not a device; expected {ACCEPTED}")


# --- one --device for the commands that render and train: `feint study run`, `tune`, `ablate` ----------
#
# Their --device takes the render device names (feint/render/device.py) and means one place for all their
# work: Cycles renders there and torch (features, heads, fine-tuning) runs on the matching torch device.
# The two name the same hardware differently: Cycles by the vendor's API (CUDA and OptiX on NVIDIA cards,
# HIP on AMD, oneAPI on Intel, Metal on Apple), torch by its backend, where NVIDIA cards are "cuda" and so
# are AMD's in torch's ROCm builds (HIP). `torch_device_for` is that table, and the only place it is kept.
# One GPU of several: set CUDA_VISIBLE_DEVICES (HIP_VISIBLE_DEVICES on AMD): torch and Cycles both see
# only that one.

TORCH_FOR_RENDER = {
    "cpu": "cpu",
    "cuda": "cuda",
    "optix": "cuda",
    "hip": "cuda",
    "oneapi": "cpu",
    "metal": "mps",
}


def torch_device_for(choice: str | None, cuda: bool) -> str:
    """The torch device a render device choice means: auto -> "cuda" where torch sees a CUDA (or ROCm)
    device (`cuda`), else "cpu"; cuda, optix and hip -> "cuda"; metal -> "mps"; oneapi -> "cpu" (feint does
    not drive torch's Intel XPU devices: the features and heads stay on the CPU); cpu -> "cpu"."""
    text = (choice or "auto").strip().lower()
    if text == "auto":
        return "cuda" if cuda else "cpu"
    if text not in TORCH_FOR_RENDER:
        raise FeintError(f"--device {choice!r}: not a device; expected auto, {', '.join(TORCH_FOR_RENDER)}")
    return TORCH_FOR_RENDER[text]


@dataclass(frozen=True)
class Devices:
    """Where a study, tuning or ablation run works: `render` as `RenderJob.device` takes it ("cpu", a
    Cycles backend such as "optix", or None: each graph's render.device), `torch` as torch names it."""

    render: str | None = None
    torch: str = "cpu"
    described: str = ""  # the render device in words (its GPUs), for the records

    def record(self) -> dict[str, str]:
        """What a study's summary.json and a tuning card say about where the work ran."""
        return {"render": self.described or self.render or "graph's render.device", "torch": self.torch}


def resolve_devices(
    name: str | None, graph_choice: str = "auto", on_ray: bool = False, option: str = "--device"
) -> Devices:
    """The devices `--device name` means on this machine, checked before any work: a FeintError (one line)
    where torch or Cycles finds no such device. None: torch on auto, Cycles on `graph_choice` (the graph's
    render.device). `on_ray`: the renders run on a Ray cluster, which resolves the choice itself (as
    `feint render --executor ray` does), and torch takes this machine's CUDA device only where it has one."""
    import torch

    from feint.render.device import resolve_render_device

    cuda = torch.cuda.is_available() and torch.cuda.device_count() > 0
    text = (name or "auto").strip().lower()
    wanted = torch_device_for(text, cuda)
    if on_ray:
        return Devices(name or graph_choice, wanted if wanted != "cuda" or cuda else "cpu")
    if wanted == "cuda" and not cuda:
        built = (
            "a CPU-only build of torch"
            if torch.version.cuda is None and torch.version.hip is None
            else "no CUDA device visible"
        )
        raise FeintError(
            f"{option} {text}: torch finds no CUDA device to train on ({built}); use {option} auto or "
            f"{option} cpu"
        )
    if wanted == "mps":
        wanted = resolve_device("mps", option)
    render = resolve_render_device(name or graph_choice, option)
    return Devices(render.backend.lower(), wanted, render.describe())


def autocast_dtype(device: str) -> torch.dtype | None:
    """The reduced precision torch.autocast computes in on `device`: bfloat16 on a CUDA device that has it
    (Ampere and later: no loss scaling needed), else float16 (with a GradScaler when training); None on
    every other device, whose results stay in float32 and byte for byte as they were."""
    import torch

    if not device.startswith("cuda"):
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
