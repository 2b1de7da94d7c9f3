"""Resuming a tuning run: the folder must hold the same tuning, and trials cut short are run again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from feint.errors import FeintError
from feint.tuning.settings import TuneSettings
from feint.tuning.tuner import Tuner


def check_resume(out: Path, settings: TuneSettings, base_graph: dict[str, Any]) -> None:
    """A folder with trials must have been tuned with the same settings (all but trials and workers)."""
    card = out / "tune.json"
    if not out.exists():
        return
    if not out.is_dir():
        raise FeintError(f"{out}: output path is a file, expected a folder")
    if not card.is_file():
        if any(out.iterdir()):
            raise FeintError(f"{out}: not a feint tune folder (no tune.json); pick an empty or new folder")
        return
    before = json.loads(card.read_text())["identity"]
    now = settings.identity(base_graph)
    changed = [k for k in now if before.get(k) != now[k]]
    if changed:
        raise FeintError(
            f"{out}: tuned before with different {', '.join(changed)}; pick a new folder (only --trials "
            "and --workers may change when resuming)"
        )


def prepare_study(tuner: Tuner) -> dict[str, int]:
    """Before any worker starts: enqueue the base trial into a new study; mark trials left RUNNING by a
    kill as failed and enqueue them again with the same parameters. Returns counts for the log line."""
    from optuna.trial import TrialState

    study = tuner.open_study()
    trials = study.get_trials(deepcopy=False)
    if not trials:
        study.enqueue_trial(tuner.space.base_params(), user_attrs={"base": True})
        return {"new": 1, "rerun": 0}
    stale = [t for t in trials if t.state == TrialState.RUNNING]
    for t in stale:
        study.tell(t.number, state=TrialState.FAIL)
        attrs = {"rerun_of": t.number, **({"base": True} if t.user_attrs.get("base") else {})}
        study.enqueue_trial(t.params, user_attrs=attrs)
    return {"new": 0, "rerun": len(stale)}
