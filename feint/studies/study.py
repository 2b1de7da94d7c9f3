"""Run a study: its chosen steps (feint/studies/steps.py) over cached features, resumable, into tidy
tables and a report.

Data first (real splits, renders, features: feint/studies/data.py), then each step in registration order
(feint/studies/registry.py), each adding its runs to one results table. Whatever the steps, the test
photos most of the runs trained on photos miss are listed at the end (feint.analysis.hard_photos).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from feint.io import write_json_atomic
from feint.studies.context import StudyContext, Tracker
from feint.studies.data import prepare
from feint.studies.fingerprint import fingerprint
from feint.studies.headlines import headlines
from feint.studies.outputs import write_outputs
from feint.studies.registry import chosen_steps
from feint.studies.result import StudyResult
from feint.studies.runs import RunStore
from feint.studies.spec import StudySpec
from feint.training.device import Devices


class StudyRunner:
    def __init__(
        self,
        spec: StudySpec,
        out: Path,
        cache: Path,
        progress: bool = True,
        tracker: Tracker | None = None,
        executor: str = "local",
        address: str | None = None,
        devices: Devices | None = None,
    ):
        """`executor` "ray" renders on Ray and sends the runs of each step to it side by side (a step
        needs the one before it: the epochs fit sets later runs' epochs); the results are the same.
        `devices`: where Cycles renders and torch computes features and trains (`resolve_devices`; default:
        the graph's render.device, torch on the CPU), recorded in summary.json, in no run's key."""
        self.spec, self.out, self.cache, self.progress, self.tracker = spec, out, cache, progress, tracker
        self.executor, self.address = executor, address
        self.devices = devices or Devices()
        self.store = RunStore(out / "runs")

    def run(self) -> StudyResult:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out / "study.json", self.spec.model_dump())
        data = prepare(self.spec, self.cache, self.progress, self.executor, self.address, self.devices)
        ctx = StudyContext(
            self.spec,
            data,
            fingerprint(self.spec, data),
            self.out,
            self.cache,
            self.store,
            self.progress,
            self.tracker,
            self.executor,
            self.address,
            devices=self.devices,
        )
        steps = chosen_steps(self.spec.steps)
        total = sum(step.planned(ctx) for step in steps)
        with tqdm(
            total=total, desc="study", unit="run", disable=not self.progress, dynamic_ncols=True
        ) as bar:
            ctx.bar = bar
            for step in steps:
                step.run(ctx)
        table = pd.DataFrame(ctx.rows)
        result = StudyResult(
            self.spec,
            self.out,
            table,
            ctx.fit,
            headlines(table),
            ctx.failure,
            ctx.ablations,
            _hard_photos(ctx),
            self.devices.record(),
            dict(ctx.weights),
        )
        write_outputs(result, data, time.perf_counter() - started)
        return result


def _hard_photos(ctx: StudyContext) -> pd.DataFrame | None:
    """The test photos at least half of the runs trained on photos get wrong (None: no such runs)."""
    from feint.analysis.hard_photos import hard_photos

    if not ctx.trained_on_photos:
        return None
    return hard_photos(ctx.data.test, ctx.spec.classes, list(ctx.trained_on_photos.values()))
