"""Where Cycles renders: the CPU, or the GPUs of one backend (CUDA, OptiX, HIP, oneAPI, Metal).

`resolve_render_device` runs in the parent before any worker starts, so `--device cuda` on a machine
without a CUDA GPU is one line at once, not a failure in every worker. It asks Blender in a short child
process (once per process, under a second): Blender imported into the parent would break the spawned
workers' own import of it, and Cycles prints its driver warnings there, not over the user's progress bar.
`auto` takes the first backend with a device (OptiX before CUDA on NVIDIA cards: the same GPUs, faster
kernels) and the CPU where there is none. Each render worker then uses ONE device of that backend
(`use_device`): small images keep a GPU busy only from one process each, and several GPUs render side by
side as several workers.

The pinned `bpy` wheel carries Cycles' CUDA, OptiX and HIP kernels; a backend is usable where its driver
library loads (Cycles logs a warning and lists no device where it does not).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from dataclasses import dataclass
from typing import Any, get_args

from feint.errors import FeintError
from feint.graph.schema import RenderDeviceName

DEVICE_CHOICES: tuple[str, ...] = get_args(RenderDeviceName)
# What `auto` tries, in order: OptiX and CUDA reach the same NVIDIA cards, OptiX with faster kernels.
GPU_BACKENDS = ("OPTIX", "CUDA", "HIP", "ONEAPI", "METAL")


@dataclass(frozen=True)
class RenderDevice:
    """A resolved device: `backend` "CPU" or one of GPU_BACKENDS, with the names of its GPUs."""

    backend: str = "CPU"
    gpus: tuple[str, ...] = ()

    @property
    def is_gpu(self) -> bool:
        return self.backend != "CPU"

    @property
    def family(self) -> str:
        """ "cpu" or "gpu": what decides the pixels (GPU backends agree with each other more than with the
        CPU), recorded in render.json so that a resume never mixes the two in one folder."""
        return "gpu" if self.is_gpu else "cpu"

    def describe(self) -> str:
        if not self.is_gpu:
            return "cpu"
        return f"{self.backend.lower()} ({', '.join(self.gpus)})"


CPU = RenderDevice()


_PROBE = """
import json, bpy
prefs = bpy.context.preferences.addons["cycles"].preferences
found = {}
for backend in %r:
    try:
        found[backend] = [d.name for d in prefs.get_devices_for_type(backend) if d.type == backend]
    except (TypeError, ValueError):  # a backend this build of Cycles does not know
        found[backend] = []
print("FEINT-DEVICES " + json.dumps(found))
"""


@functools.cache
def cycles_gpus_by_backend() -> dict[str, tuple[str, ...]]:
    """The GPUs Cycles finds on this machine, per backend (empty where a driver is missing)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE % (GPU_BACKENDS,)], capture_output=True, text=True, timeout=120
    )
    for line in done.stdout.splitlines():
        if line.startswith("FEINT-DEVICES "):
            return {k: tuple(v) for k, v in json.loads(line.split(" ", 1)[1]).items()}
    reason = (done.stderr.strip().splitlines() or ["no answer"])[-1]
    raise FeintError(f"could not ask Blender for its render devices: {reason}")


def resolve_render_device(name: str | None, option: str = "--device") -> RenderDevice:
    """The device `name` (one of DEVICE_CHOICES) means on this machine; a FeintError if it has none."""
    text = (name or "auto").strip().lower()
    if text not in DEVICE_CHOICES:
        raise FeintError(f"{option} {name!r}: not a render device; expected {', '.join(DEVICE_CHOICES)}")
    if text == "cpu":
        return CPU
    if text == "auto":
        try:
            gpus = cycles_gpus_by_backend()
        except FeintError:  # Blender cannot start here: the CPU, whose workers then say why, in one line
            return CPU
        for backend in GPU_BACKENDS:
            if gpus.get(backend):
                return RenderDevice(backend, gpus[backend])
        return CPU
    backend = text.upper()
    found = cycles_gpus_by_backend().get(backend, ())
    if not found:
        raise FeintError(
            f"{option} {text}: Cycles finds no {backend} device on this machine (no GPU, or its driver is "
            f"not installed); use {option} auto or {option} cpu"
        )
    return RenderDevice(backend, found)


def use_device(scene: Any, device: RenderDevice, slot: int) -> None:
    """Render `scene` on `device`; a GPU worker uses only GPU number `slot` (modulo their number)."""
    if not device.is_gpu:
        scene.cycles.device = "CPU"
        return
    prefs = _cycles_preferences()
    prefs.compute_device_type = device.backend
    gpus = [d for d in prefs.get_devices_for_type(device.backend) if d.type == device.backend]
    if not gpus:
        raise FeintError(f"Cycles finds no {device.backend} device in this render worker")
    mine = gpus[slot % len(gpus)]
    for d in prefs.devices:
        d.use = d.id == mine.id
    scene.cycles.device = "GPU"


def _cycles_preferences() -> Any:
    import bpy

    return bpy.context.preferences.addons["cycles"].preferences
