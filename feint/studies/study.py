"""Run a study: the steps of the ship methodology over cached features, resumable, into tidy tables.

Steps (each optional): baseline curve over real fractions; best epochs vs training-set size with a
linear fit; zero-shot (synthetic only); failure analysis; fine-tune vs merged; real x synthetic grid;
ablations (zero-shot with one graph feature switched off at a time). Whatever the steps, the test photos
most of the runs trained on photos miss are listed at the end (feint.analysis.hard_photos).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from feint.io import write_bytes_atomic, write_json_atomic, write_text_atomic
from feint.studies.data import Part, StudyData, prepare
from feint.studies.runs import RunConfig, RunStore
from feint.studies.spec import StudySpec


@dataclass
class StudyResult:
    spec: StudySpec
    out: Path
    table: pd.DataFrame
    epoch_fit: dict[str, float]
    headlines: dict[str, Any]
    failure: dict[str, Any] = field(default_factory=dict)
    ablations: pd.DataFrame | None = None
    hard_photos: pd.DataFrame | None = None  # test photos most runs trained on photos miss


def fingerprint(spec: StudySpec, data: StudyData) -> str:
    """What the runs' data depends on: classes, split membership, backbone, size, renders."""
    parts = [
        spec.classes,
        spec.backbone,
        spec.image_size,
        [str(p) for p in data.train.paths],
        [str(p) for p in data.test.paths],
        str(data.synthetic_root),
        [] if data.synthetic is None else [p.name for p in data.synthetic.paths],
    ]
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:12]


class StudyRunner:
    def __init__(
        self,
        spec: StudySpec,
        out: Path,
        cache: Path,
        progress: bool = True,
        tracker: Any = None,
        executor: str = "local",
        address: str | None = None,
    ):
        """`executor` "ray" renders on Ray and sends the runs of each step to it side by side (a step
        needs the one before it: the epochs fit sets later runs' epochs); the results are the same."""
        self.spec, self.out, self.cache, self.progress, self.tracker = spec, out, cache, progress, tracker
        self.executor, self.address = executor, address
        self.store = RunStore(out / "runs")
        self.rows: list[dict[str, Any]] = []
        self.trained_on_photos: dict[str, dict[str, Any]] = {}  # results by run key, for hard_photos_step
        self.bar: tqdm | None = None

    # ----- the plan -------------------------------------------------------------------------------
    def run(self) -> StudyResult:
        started = time.perf_counter()
        self.out.mkdir(parents=True, exist_ok=True)
        write_json_atomic(self.out / "study.json", self.spec.model_dump())
        data = prepare(self.spec, self.cache, self.progress, self.executor, self.address)
        self.data, self.fp = data, fingerprint(self.spec, data)
        s = self.spec
        n_seeds = len(s.seeds)
        planned = {
            "baseline": len(s.baseline_fractions) * n_seeds,
            "epochs": len(s.epochs.fractions) * n_seeds,
            "zero_shot": n_seeds,
            "finetune": 2 * len(s.finetune_fractions) * n_seeds,
            "grid": len(s.grid_fractions) * len(s.grid_synthetic) * n_seeds,
            "ablations": (len(self._ablation_features()) + 1) * n_seeds if "ablations" in s.steps else 0,
        }
        total = sum(v for k, v in planned.items() if k in s.steps)
        self.bar = tqdm(total=total, desc="study", unit="run", disable=not self.progress, dynamic_ncols=True)
        with self.bar:
            fit = self.epochs_step() if "epochs" in s.steps else {"intercept": 30.0, "slope": 0.0}
            self.fit = fit
            if "baseline" in s.steps:
                self.baseline_step()
            if "zero_shot" in s.steps or "failure" in s.steps:
                self.zero_shot_step()
            if "finetune" in s.steps:
                self.finetune_step()
            if "grid" in s.steps:
                self.grid_step()
            ablations = self.ablations_step() if "ablations" in s.steps else None
        table = pd.DataFrame(self.rows)
        failure = self.failure_step() if "failure" in s.steps and data.synthetic is not None else {}
        hard = self.hard_photos_step()
        result = StudyResult(s, self.out, table, fit, headlines(table), failure, ablations, hard)
        self._write(result, time.perf_counter() - started)
        return result

    def _config(self, **kw: Any) -> RunConfig:
        s = self.spec
        n_real = len(self.data.real_subset(kw["real_fraction"], kw["seed"])) if kw["real_fraction"] > 0 else 0
        n_syn = len(self.data.synthetic_subset(kw.get("synthetic_per_class", 0)))
        rows = n_real * (2 if s.mirror else 1) + n_syn if n_syn else None
        epochs = kw.pop("epochs", None) or self.epochs_for(n_real + n_syn, rows)
        return RunConfig(
            kw["real_fraction"],
            kw.get("synthetic_per_class", 0),
            kw.get("mode", "merged"),
            kw["seed"],
            epochs,
            s.lr,
            s.hidden,
            s.synthetic_weight,
            kw.get("validate", False),
            self.fp,
            s.align,
            s.mirror,
            s.label_smoothing,
        )

    def _run_all(self, calls: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        """The runs of one step, (step name, run options) each: one after another here, or side by side on
        Ray; the rows go into the table in plan order either way."""
        cfgs = [self._config(**kw) for _, kw in calls]
        step_of = {cfg.key(): step for cfg, (step, _) in zip(cfgs, calls, strict=True)}
        trained = []

        def log(cfg: RunConfig, result: dict[str, Any]) -> None:  # a run just finished
            trained.append(cfg)
            if self.tracker:
                self.tracker(step_of[cfg.key()], cfg, result)
            self._progress(step_of[cfg.key()])

        if self.executor == "ray":
            results = self.store.get_or_run_many(cfgs, self.data, log, self.address)
        else:
            results = [self.store.get_or_run(cfg, self.data, log) for cfg in cfgs]
        if calls:  # the runs read from disk (a resumed study, a run shared with an earlier step)
            self._progress(calls[-1][0], len(calls) - len(trained))
        for (step, _), cfg, result in zip(calls, cfgs, results, strict=True):
            self._row(step, cfg, result)
        return results

    def _progress(self, step: str, done: int = 1) -> None:
        if self.bar is not None:
            self.bar.set_postfix_str(step)
            self.bar.update(done)

    def _row(self, step: str, cfg: RunConfig, result: dict[str, Any]) -> None:
        self.rows.append(
            {
                "step": step,
                **{k: v for k, v in result["config"].items() if k != "data"},
                "n_real": result["n_real"],
                "n_synthetic": result["n_synthetic"],
                "accuracy": result["accuracy"],
                "balanced_accuracy": result["balanced_accuracy"],
                "best_epoch": result["best_epoch"],
                "run": cfg.key(),
            }
        )
        if result["n_real"] > 0:
            self.trained_on_photos[cfg.key()] = result

    def epochs_for(self, n: int, rows: int | None = None) -> int:
        """Epochs for a run on `n` images: the epoch fit, within the study's bounds; a run with renders
        (`rows`: its feature rows, mirrored photos included) trains no more than `max_steps` steps."""
        from feint.training.head import HeadConfig

        e = self.spec.epochs
        line = self.fit["intercept"] + self.fit["slope"] * n
        fitted = int(np.clip(round(line), e.min_epochs, e.max_epochs))
        if rows is None:
            return fitted
        steps_per_epoch = max(1, math.ceil(rows / HeadConfig.batch))
        return max(1, min(fitted, e.max_steps // steps_per_epoch))

    # ----- steps ----------------------------------------------------------------------------------
    def epochs_step(self) -> dict[str, float]:
        """Best epoch on real validation at several training sizes; least-squares line through them."""
        calls = [
            (
                "epochs",
                {"real_fraction": f, "seed": seed, "epochs": self.spec.epochs.max_epochs, "validate": True},
            )
            for f in self.spec.epochs.fractions
            for seed in self.spec.seeds
        ]
        results = self._run_all(calls)
        xs = [r["n_real"] for r in results]
        ys = [r["best_epoch"] for r in results]  # counted from 1
        slope, intercept = np.polyfit(xs, ys, 1) if len(set(xs)) > 1 else (0.0, float(np.mean(ys)))
        return {
            "intercept": float(intercept),
            "slope": float(slope),
            "points": list(zip(xs, ys, strict=True)),
        }

    def baseline_step(self) -> None:
        self._run_all(
            [
                ("baseline", {"real_fraction": fraction, "seed": seed})
                for fraction in self.spec.baseline_fractions
                for seed in self.spec.seeds
            ]
        )

    def zero_shot_step(self) -> None:
        per_class = self.spec.synthetic.per_class
        calls = [
            ("zero_shot", {"real_fraction": 0.0, "seed": seed, "synthetic_per_class": per_class})
            for seed in self.spec.seeds
        ]
        self.zero_shot = self._run_all(calls)[-1]

    def finetune_step(self) -> None:
        per_class = self.spec.synthetic.per_class
        self._run_all(
            [
                (
                    f"finetune:{mode}",
                    {"real_fraction": fraction, "seed": seed, "mode": mode, "synthetic_per_class": per_class},
                )
                for fraction in self.spec.finetune_fractions
                for seed in self.spec.seeds
                for mode in ("finetune", "merged")
            ]
        )

    def grid_step(self) -> None:
        calls = []
        for fraction in self.spec.grid_fractions:
            for per_class in self.spec.grid_synthetic:
                for seed in self.spec.seeds:
                    if fraction == 0 and per_class == 0:
                        self.bar.update(1) if self.bar is not None else None
                        continue
                    calls.append(
                        ("grid", {"real_fraction": fraction, "seed": seed, "synthetic_per_class": per_class})
                    )
        self._run_all(calls)

    def _ablation_features(self) -> dict[str, Any]:
        from feint.graph import load_graph
        from feint.tuning.ablate import feature_table

        s = self.spec
        return feature_table(load_graph(s.synthetic.graph).channel, None, s.ablations.features)

    def ablations_step(self) -> pd.DataFrame:
        """Each feature switched off in turn: the graph rendered again with the same image seeds, then the
        zero-shot step's runs (same seeds and epochs) on those renders, scored on the real test photos."""
        from feint.graph.loader import load_graph_dict
        from feint.tuning.ablate import run_ablations

        s = self.spec
        per_class = s.ablations.per_class or s.synthetic.per_class
        merged, _ = load_graph_dict(s.synthetic.graph)

        def score(name: str, renders: Part, folder: Path) -> dict[str, float]:
            data = replace(self.data, synthetic=renders, synthetic_root=folder)
            results = []
            for seed in s.seeds:
                cfg = self._config(real_fraction=0.0, seed=seed, synthetic_per_class=per_class)
                cfg = replace(cfg, data=fingerprint(s, data))
                result = self.store.get_or_run(cfg, data, self._log("ablations"))
                self._row(f"ablation:{name}", cfg, result)
                self._progress("ablations")
                results.append(result)
            return {k: float(np.mean([r[k] for r in results])) for k in ("accuracy", "balanced_accuracy")}

        return run_ablations(
            merged,
            self._ablation_features(),
            s.classes,
            per_class,
            s.synthetic.size,
            s.synthetic.seed,
            self.cache,
            score,
            s.backbone,
            s.image_size,
            None,
            s.synthetic.workers,
            self.progress,
        )

    def _log(self, step: str) -> Any:
        """A RunStore callback sending a freshly trained run to the tracker."""
        return (lambda cfg, result: self.tracker(step, cfg, result)) if self.tracker else None

    def failure_step(self) -> dict[str, Any]:
        from feint.analysis.failure import analyse

        return analyse(self.data, self.zero_shot, self.out / "failure")

    def hard_photos_step(self) -> pd.DataFrame | None:
        """The test photos at least half of the runs trained on photos get wrong (None: no such runs)."""
        from feint.analysis.hard_photos import hard_photos

        if not self.trained_on_photos:
            return None
        return hard_photos(self.data.test, self.spec.classes, list(self.trained_on_photos.values()))

    # ----- outputs --------------------------------------------------------------------------------
    def _write(self, result: StudyResult, seconds: float) -> None:
        table = result.table
        write_bytes_atomic(self.out / "results.parquet", table.to_parquet(index=False))
        write_text_atomic(self.out / "results.csv", table.to_csv(index=False))
        summary = {
            "name": self.spec.name,
            "epoch_fit": result.epoch_fit,
            "headlines": result.headlines,
            "failure": result.failure.get("summary", {}),
            "seconds": round(seconds, 1),
            "classes": self.spec.classes,
            "score_on": self.spec.score_on,
            "n_test": int(len(self.data.test.labels)),
            "n_train": int(len(self.data.train.labels)),
            "n_val": int(len(self.data.val.labels)),
        }
        if result.hard_photos is not None:
            write_text_atomic(self.out / "hard_photos.csv", result.hard_photos.to_csv(index=False))
            summary["hard_photos"] = len(result.hard_photos)
        if result.ablations is not None:
            from feint.tuning.ablate import write_ablations

            write_ablations(result.ablations, self.out / "ablations")
            summary["ablations"] = result.ablations.to_dict(orient="records")
        write_json_atomic(self.out / "summary.json", summary)
        from feint.reports.study import write_report

        write_report(result, self.data, self.out / "report.html")


T_975 = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 6: 2.447, 7: 2.365, 8: 2.306, 9: 2.262, 10: 2.228}


def interval(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and a 95 % t-interval over seeds (the mean twice when there is one seed)."""
    values = np.asarray(values, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return mean, mean, mean
    t = T_975.get(len(values) - 1, 1.96)
    half = float(t * values.std(ddof=1) / np.sqrt(len(values)))
    return mean, mean - half, mean + half


def headlines(table: pd.DataFrame) -> dict[str, Any]:
    """The numbers a reader wants first: zero-shot, 100 % real, the smallest real share that matches it
    with renders added, and the best mix."""
    out: dict[str, Any] = {}
    if table.empty:
        return out
    zs = table[table.step == "zero_shot"]
    if len(zs):
        out["zero_shot_accuracy"] = float(zs.accuracy.mean())
    real_full = table[
        (table.real_fraction == 1.0) & (table.synthetic_per_class == 0) & (table.step != "epochs")
    ]
    if len(real_full):
        out["real_100_accuracy"] = float(real_full.drop_duplicates("run").accuracy.mean())
    grid = table[table.step == "grid"]
    if len(grid) and "real_100_accuracy" in out:
        means = grid.groupby(["real_fraction", "synthetic_per_class"]).accuracy.mean().reset_index()
        mixed = means[means.synthetic_per_class > 0]
        if len(mixed):
            best = mixed.loc[mixed.accuracy.idxmax()]
            out["best_mix"] = {
                "real_fraction": float(best.real_fraction),
                "synthetic_per_class": int(best.synthetic_per_class),
                "accuracy": float(best.accuracy),
            }
            matching = mixed[mixed.accuracy >= out["real_100_accuracy"]].sort_values("real_fraction")
            if len(matching):
                m = matching.iloc[0]
                out["smallest_matching_real_fraction"] = {
                    "real_fraction": float(m.real_fraction),
                    "synthetic_per_class": int(m.synthetic_per_class),
                    "accuracy": float(m.accuracy),
                }
            for frac in (0.1,):
                row = mixed[np.isclose(mixed.real_fraction, frac)]
                if len(row):
                    r = row.loc[row.accuracy.idxmax()]
                    out[f"real_{int(frac * 100)}_plus_synthetic"] = {
                        "synthetic_per_class": int(r.synthetic_per_class),
                        "accuracy": float(r.accuracy),
                    }
    return out
