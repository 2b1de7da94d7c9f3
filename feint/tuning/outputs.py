"""What a tuning run leaves behind: the trial table, the best graph, the report and the card.

All are rewritten from the Optuna study at the end of every run (also a resumed one), so they always
describe every trial finished so far. They are written from plain values: the trials (Optuna's frozen
records), the settings, the base graph and the search space.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

import feint
from feint.graph.distributions import parse_distribution
from feint.graph.loader import Graph
from feint.graph.overrides import lookup, same, write_extending_graph
from feint.io import write_json_atomic, write_text_atomic
from feint.tracking import Tracker
from feint.tuning.settings import TuneSettings
from feint.tuning.space import SearchSpace


def trial_table(trials: Sequence[Any]) -> pd.DataFrame:
    """One row per trial: state, whether it is the base graph, scores, seconds, parameter values."""
    rows = []
    for t in trials:
        a = t.user_attrs
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name,
                "base": bool(a.get("base", False)),
                "score": t.value,
                "balanced_accuracy": a.get("balanced_accuracy"),
                "accuracy": a.get("accuracy"),
                "gap": a.get("gap"),
                "seconds": a.get("seconds"),
                "renders": a.get("renders"),
                "note": a.get("invalid") or (f"re-run of trial {a['rerun_of']}" if "rerun_of" in a else ""),
                **t.params,
            }
        )
    return pd.DataFrame(rows)


def changes(graph: Graph, overrides: dict[str, Any]) -> list[dict[str, str]]:
    """Parameters whose distribution differs from the base graph's: (parameter, old, new)."""
    found = []
    for path, value in overrides.items():
        old, new = lookup(graph, path), parse_distribution(value)
        if not same(old, new):
            found.append({"parameter": path, "base": old.describe(), "best": new.describe()})
    return found


def pick(trials: Sequence[Any], confirmed: dict[int, float]) -> tuple[Any, Any]:
    """The picked trial and the base trial. With `confirmed` scores (a second score on other renders),
    the pick is the confirmed trial with the highest mean of its two scores; ties go to the earlier
    trial, so the base graph wins a tie. Noise-aware: the base graph's own two scores differ by the luck
    of the draw (`base_noise`), and a trial that beats the base by no more than that is not told from
    luck, so the base graph stays the pick."""
    done = [t for t in trials if t.state.name == "COMPLETE"]
    pool = [t for t in done if t.number in confirmed] or done
    best = max(pool, key=lambda t: (_mean_score(t, confirmed), -t.number), default=None)
    base = next((t for t in done if t.user_attrs.get("base")), None)
    noise = base_noise(base, confirmed)
    if best is not None and base is not None and noise is not None and best.number in confirmed:
        if _mean_score(best, confirmed) - _mean_score(base, confirmed) <= noise:
            best = base
    return best, base


def base_noise(base: Any, confirmed: dict[int, float]) -> float | None:
    """How far apart the base graph's two scores (two render batches) are: the batch-to-batch noise of a
    score; None without a second score."""
    if base is None or base.number not in confirmed:
        return None
    return float(abs(base.value - confirmed[base.number]))


def _mean_score(trial: Any, confirmed: dict[int, float]) -> float:
    if trial.number in confirmed:
        return (trial.value + confirmed[trial.number]) / 2
    return trial.value


def _scores(trial: Any, confirmed: dict[int, float], held: dict[int, float]) -> dict[str, Any] | None:
    if trial is None:
        return None
    keys = ("balanced_accuracy", "accuracy", "gap", "per_class_recall", "renders")
    return {
        "trial": trial.number,
        "score": _mean_score(trial, confirmed),
        "trial_score": trial.value,
        "confirm_score": confirmed.get(trial.number),
        "held_out_score": held.get(trial.number),
        **{k: trial.user_attrs.get(k) for k in keys},
    }


def _held_out(base: Any, best: Any, held: dict[int, float], n_held: int) -> dict[str, Any] | None:
    """The check on the held-out photos: both scores, and whether the pick beats the base there (None:
    no check, or the base graph is the pick)."""
    if base is None or best is None or base.number not in held or best.number not in held:
        return None
    beats = None if best.number == base.number else bool(held[best.number] > held[base.number])
    return {"photos": n_held, "base": held[base.number], "best": held[best.number], "beats_base": beats}


def write_outputs(
    out: Path,
    trials: Sequence[Any],
    s: TuneSettings,
    identity: dict[str, Any],
    graph: Graph,
    space: SearchSpace,
    n_real: int,
    seconds: float,
    command: str,
    confirmed: dict[int, float] | None = None,
    device: dict[str, str] | None = None,
    held: dict[int, float] | None = None,
    n_held: int = 0,
) -> dict[str, Any]:
    """trials.csv, best.yaml (when a trial finished), report.html and tune.json in `out`. `identity`: the
    settings' identity with the base `graph` (`TuneSettings.identity`); `space` turns the best trial into
    overrides. `confirmed`: second scores of the best trials (`Tuner.confirm`); "score" is then their mean.
    `device`: where this run of the command rendered and scored (`Devices.record`). `held`: the base's
    and the pick's scores on the `n_held` held-out photos (`Tuner.check_held_out`)."""
    from feint.reports.tune import write_tune_report

    confirmed, held = confirmed or {}, held or {}
    table = trial_table(trials)
    if len(table):
        table.insert(4, "confirm_score", [confirmed.get(n) for n in table.trial])
    write_text_atomic(out / "trials.csv", table.to_csv(index=False))
    best, base = pick(trials, confirmed)
    checked = _held_out(base, best, held, n_held)
    changed: list[dict[str, str]] = []
    if best is not None:
        overrides = space.trial_overrides(best)
        changed = changes(graph, overrides)
        kept = {c["parameter"]: overrides[c["parameter"]] for c in changed}
        how = " (mean of the trial's score and a second one on other renders)" if confirmed else ""
        moved = (
            f"{s.objective} score {_mean_score(base, confirmed):.4f} (base graph) -> "
            f"{_mean_score(best, confirmed):.4f}{how}"
            if base is not None
            else f"{s.objective} score {_mean_score(best, confirmed):.4f}{how}"
        )
        on_held = (
            f"\nOn {n_held} held-out photos: {checked['base']:.4f} (base graph) -> {checked['best']:.4f}."
            if checked
            else ""
        )
        header = (
            f"Tuned by `feint tune`: trial {best.number} of {len(table)}, {moved}\n"
            f"on {n_real} real validation images ({s.real}{f', split {s.split}' if s.split else ''})."
            f"{on_held}\nCommand: {command}"
        )
        write_extending_graph(out / "best.yaml", s.graph, kept, header)
    states = table.state.value_counts().to_dict() if len(table) else {}
    card = {
        "identity": identity,
        "settings": s.model_dump(),
        "command": command,
        "device": device or {},
        "base": _scores(base, confirmed, held),
        "best": _scores(best, confirmed, held),
        "base_noise": base_noise(base, confirmed),
        "held_out": checked,
        "changed": changed,
        "trials": {k.lower(): int(v) for k, v in states.items()},
        "n_real": n_real,
        "seconds_last_run": round(seconds, 1),
        "versions": {
            "feint": feint.__version__,
            "optuna": metadata.version("optuna"),
            "blender": metadata.version("bpy"),
            "python": platform.python_version(),
        },
    }
    write_json_atomic(out / "tune.json", card)
    write_tune_report(card, table, out, Path(out / "report.html"))
    return card


def log_trials(trials: Sequence[Any], out: Path, tracker: Tracker) -> int:
    """Log every finished trial not logged to this kind of tracker yet (out/tracked.json keeps their
    numbers): its parameters, scores, seconds and graph file. Returns how many runs were added."""
    ledger = out / "tracked.json"
    done = json.loads(ledger.read_text()) if ledger.is_file() else {}
    logged = set(done.get(tracker.kind, []))
    added = 0
    for t in trials:
        if t.state.name != "COMPLETE" or t.number in logged:
            continue
        tags = {"trial": str(t.number), "base": str(bool(t.user_attrs.get("base")))}
        with tracker.run(f"trial {t.number}", t.params, tags) as run:
            keys = ("balanced_accuracy", "accuracy", "gap", "seconds")
            run.log_metrics({"score": t.value, **{k: t.user_attrs[k] for k in keys if k in t.user_attrs}})
            graph = out / "trials" / f"{t.number:04d}.yaml"
            if graph.is_file():
                run.log_file(graph)
        logged.add(t.number)
        write_json_atomic(ledger, {**done, tracker.kind: sorted(logged)})  # after each: a kill loses none
        added += 1
    return added
