"""The trial loop of `feint tune`: ask Optuna for a proposal, render a small batch of the changed graph,
score it on the real validation photos, tell Optuna; until the study holds enough trials.

Every trial renders the same image seeds, so two trials differ by their distributions only, not by luck
of the draw. With one worker the proposals are reproducible: the sampler of trial k is seeded by (seed, k).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.graph.loader import load_graph, load_graph_dict
from feint.graph.overrides import apply_overrides, validate_graph, write_extending_graph
from feint.io import write_json_atomic
from feint.studies.data import Part, render_balanced
from feint.training.device import Devices
from feint.tuning.lock import locked
from feint.tuning.score import (
    domain_gap,
    held_out,
    objective_value,
    real_part,
    render_part,
    zero_shot,
)
from feint.tuning.settings import TuneSettings
from feint.tuning.space import SearchSpace, build_space

STUDY_NAME = "tune"
DONE_STATES = ("COMPLETE", "PRUNED", "RUNNING")  # count towards --trials (a failed trial is run again)


def quiet_optuna() -> Any:
    """The optuna module, its INFO lines and experimental-feature warnings off."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # multivariate TPE
    return optuna


@dataclass
class Tuner:
    """Everything a trial needs, rebuilt from the settings in every worker process."""

    settings: TuneSettings
    out: Path
    cache: Path | None = None
    threads: int | None = None  # Cycles threads of a trial's render (None: all cores)
    devices: Devices = field(default_factory=Devices)  # where trials render and score (`resolve_devices`)

    def __post_init__(self) -> None:
        s = self.settings
        self.graph = load_graph(s.graph)
        self.merged, _ = load_graph_dict(s.graph)
        self.space: SearchSpace = build_space(s.space, self.graph, "search space")
        self._real: tuple[Part, Part | None] | None = None

    def _photos(self, progress: bool = False) -> tuple[Part, Part | None]:
        """The real validation images with their features (computed once, then read from the cache), cut
        into the part the trials score on and the held-out part (`held_out`)."""
        if self._real is None:
            s = self.settings
            photos, _ = real_part(
                s.real, s.split, s.classes, s.backbone, s.image_size, self.cache, progress, self.devices.torch
            )
            self._real = held_out(photos, s.holdout, s.seed, s.classes)
        return self._real

    def real(self, progress: bool = False) -> Part:
        """The photos every trial is scored on."""
        return self._photos(progress)[0]

    def held_out(self) -> Part | None:
        """The photos no trial is scored on (None: `holdout` 0)."""
        return self._photos()[1]

    def open_study(self) -> Any:
        optuna = quiet_optuna()
        self.out.mkdir(parents=True, exist_ok=True)
        return optuna.create_study(
            storage=f"sqlite:///{(self.out / 'optuna.db').resolve()}",
            study_name=STUDY_NAME,
            direction="maximize",
            load_if_exists=True,
        )

    def sampler(self, index: int) -> Any:
        """The sampler for the trial `index`: seeded by (seed, index), so a resumed run proposes what an
        uninterrupted one would have."""
        optuna = quiet_optuna()
        startup = min(10, max(2, self.settings.trials // 3))
        return optuna.samplers.TPESampler(
            seed=self.settings.seed * 100_003 + index,
            n_startup_trials=startup,
            multivariate=True,
            constant_liar=True,
        )

    # ----- one trial ------------------------------------------------------------------------------
    def run_trial(self, study: Any, trial: Any) -> None:
        """Render, score and record one trial; a proposal that makes no valid graph is pruned."""
        from optuna.trial import TrialState

        s = self.settings
        started = time.perf_counter()
        try:
            overrides = self.space.trial_overrides(trial)
            merged = apply_overrides(self.merged, overrides)
            validate_graph(merged)
        except FeintError as err:
            trial.set_user_attr("invalid", str(err))
            study.tell(trial, state=TrialState.PRUNED)
            return
        scores, folders = self.score(merged, s.seed)
        value = objective_value(s.objective, scores)
        note = f"feint tune trial {trial.number}: {s.objective} score {value:.4f}"
        write_extending_graph(self.out / "trials" / f"{trial.number:04d}.yaml", s.graph, overrides, note)
        attrs = {
            "accuracy": scores["accuracy"],
            "balanced_accuracy": scores["balanced_accuracy"],
            "gap": scores["gap"],
            "per_class_recall": dict(zip(s.classes, scores["per_class_recall"], strict=True)),
            "renders": " ".join(folder.name for folder in folders),  # renders/KEY of each class
            "seconds": round(time.perf_counter() - started, 2),
        }
        for key, attr in attrs.items():
            trial.set_user_attr(key, attr)
        study.tell(trial, value)

    def score(
        self, merged: dict[str, Any], seed: int, photos: Part | None = None
    ) -> tuple[dict[str, Any], list[Path]]:
        """Render the graph's images for `seed` (a folder per class, cached by graph, class and seed) and
        score them on `photos` (default: the photos the trials are scored on)."""
        s = self.settings
        folders = render_balanced(
            merged,
            s.classes,
            s.per_class,
            s.size,
            seed,
            self.out,
            1,
            self.threads,
            progress=False,
            device=self.devices.render,
        )
        torch_device = self.devices.torch
        synthetic = render_part(
            folders, s.classes, s.per_class, s.backbone, s.image_size, self.cache, torch_device
        )
        photos = self.real() if photos is None else photos
        scores = zero_shot(
            synthetic, photos, len(s.classes), s.head_seeds, align=s.align, device=torch_device
        )
        scores["gap"] = domain_gap(photos, synthetic, len(s.classes))
        return scores, folders

    def confirm(self, study: Any, progress: bool = False) -> dict[int, float]:
        """Score the base graph and the `confirm` best trials again on other images (render seed + 1):
        with a few dozen renders per class the top of a trial table is partly luck (the winner's curse),
        and the mean of two independent scores picks the best graph more reliably. Kept in
        confirm.json, so a resumed run re-scores nothing."""
        path = self.out / "confirm.json"
        done = {int(k): v for k, v in json.loads(path.read_text()).items()} if path.is_file() else {}
        complete = [t for t in study.get_trials(deepcopy=False) if t.state.name == "COMPLETE"]
        ranked = sorted(complete, key=lambda t: (-t.value, t.number))
        picks = [t for t in complete if t.user_attrs.get("base")][:1]
        picks += [t for t in ranked if not t.user_attrs.get("base")][: self.settings.confirm]
        from tqdm import tqdm

        for t in tqdm(picks, desc="confirm", unit="trial", disable=not progress, dynamic_ncols=True):
            if t.number not in done:
                merged = apply_overrides(self.merged, self.space.trial_overrides(t))
                scores, _ = self.score(merged, self.settings.seed + 1)
                done[t.number] = objective_value(self.settings.objective, scores)
                write_json_atomic(path, {str(k): v for k, v in sorted(done.items())})
        return done

    def check_held_out(self, trials: list[Any], progress: bool = False) -> dict[int, float]:
        """Score `trials` (the base graph and the pick) on the held-out photos, on renders of seed + 2 (no
        trial or confirmation saw them): whether the pick beats the base there, where neither its choice
        nor its luck of the draw was made. Kept in holdout.json, so a resumed run re-scores nothing."""
        photos = self.held_out()
        if photos is None:
            return {}
        path = self.out / "holdout.json"
        done = {int(k): v for k, v in json.loads(path.read_text()).items()} if path.is_file() else {}
        from tqdm import tqdm

        for t in tqdm(trials, desc="held-out photos", unit="trial", disable=not progress, dynamic_ncols=True):
            if t.number not in done:
                merged = apply_overrides(self.merged, self.space.trial_overrides(t))
                scores, _ = self.score(merged, self.settings.seed + 2, photos)
                done[t.number] = objective_value(self.settings.objective, scores)
                write_json_atomic(path, {str(k): v for k, v in sorted(done.items())})
        return {t.number: done[t.number] for t in trials}

    def work(self, on_trial: Callable[[], None] | None = None) -> None:
        """Run trials until `trials` are finished or running (shared with any parallel worker)."""
        from optuna.trial import TrialState

        study = self.open_study()
        distributions = self.space.distributions()
        counted = tuple(getattr(TrialState, name) for name in DONE_STATES)
        while True:
            with locked(self.out / ".ask.lock"):
                trials = study.get_trials(deepcopy=False)
                if sum(t.state in counted for t in trials) >= self.settings.trials:
                    return
                study.sampler = self.sampler(len(trials))
                trial = study.ask(distributions)
            self.run_trial(study, trial)  # a crash leaves it RUNNING: the next start re-runs it
            if on_trial is not None:
                on_trial()
