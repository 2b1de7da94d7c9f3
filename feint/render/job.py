"""What a render is asked for (`RenderJob`) and the version of the pixels it gives: what a render folder
records in render.json, so that a resume asks the same and caches never serve stale renders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from feint.channels import get_channel
from feint.graph.loader import Graph

# Bump when a change to the sampler, the assets or the renderer changes the pixels an unchanged graph
# gives: render caches (studies, tuning, ablations) are keyed by it, so they never serve stale renders.
# A change to one ship model bumps that model's own `version` instead (feint/assets/ships/).
# 2: a re-drawn image keeps its class (drawn from (seed, index) only), so re-drawn images differ from 1's.
# 3: distractor vessels stand beyond the ship's reach (a big one no longer hides a small boat).
PIXELS_VERSION = 3


@dataclass(frozen=True)
class RenderJob:
    graph: Graph
    n: int
    out: Path
    size: int = 160
    seed: int = 0
    workers: int = 1
    resume: bool = False
    recycle_every: int = 250  # a worker process is replaced after this many images: memory stays flat
    executor: str = "local"  # "local": a process pool here; "ray": actors on a Ray cluster
    address: str | None = None  # the Ray cluster ("auto", "ray://host:10001"); None: one started here
    sink: str | None = None  # an fsspec URL the workers deliver to; `out` then holds the driver's records
    threads: int | None = None  # Cycles threads per worker; None: the machine's cores shared by the workers
    device: str | None = None  # auto, cpu, cuda, optix, hip, oneapi, metal; None: the graph's render.device

    @property
    def device_choice(self) -> str:
        return self.device or self.graph.render.device

    def spec(self, device_family: str = "cpu") -> dict[str, Any]:
        """What determines the output (all but `n` must match on --resume); not how many workers ran it.
        A GPU render records "device": "gpu" (a CPU render's record is as it was before GPUs were used)."""
        spec: dict[str, Any] = {
            "graph": self.graph.to_yaml(),
            "seed": self.seed,
            "size": self.size,
            "n": self.n,
            "pixels": PIXELS_VERSION,
        }
        if device_family != "cpu":
            spec["device"] = device_family
        if models := self.model_versions():
            spec["models"] = models
        return spec

    def model_versions(self) -> dict[str, int]:
        """The graph's classes whose model is past version 1, with their versions: recorded so that a
        resume never mixes two versions of a model in one folder (a folder of version-1 models records
        none, as before models had versions)."""
        channel = get_channel(self.graph.channel)
        versions = {name: channel.asset_version(name) for name in self.graph.class_names()}
        return {name: v for name, v in versions.items() if v != 1}
