"""Log runs to a local MLflow store (SQLite in the run's folder): studies log every head they train,
`feint tune --mlflow` every trial, `feint detect train` its runs. `mlflow ui --backend-store-uri
sqlite:///runs/study-NAME/mlflow.db` opens a study's store."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol


class KeyedConfig(Protocol):
    """A run's configuration, named by its key (a study's `RunConfig`)."""

    def key(self) -> str: ...


def open_store(out: Path, experiment: str) -> Any:
    """Point MLflow at the store in `out` (mlflow.db, artifacts in mlartifacts/) and `experiment`; returns
    the mlflow module."""
    import mlflow

    logging.getLogger("mlflow").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    out.mkdir(parents=True, exist_ok=True)
    mlflow.set_tracking_uri(f"sqlite:///{out.resolve() / 'mlflow.db'}")
    if mlflow.get_experiment_by_name(experiment) is None:  # artifacts beside the store, not in ./mlruns
        mlflow.create_experiment(experiment, artifact_location=(out.resolve() / "mlartifacts").as_uri())
    mlflow.set_experiment(experiment)
    return mlflow


def mlflow_tracker(out: Path, experiment: str) -> Callable[[str, KeyedConfig, dict[str, Any]], None]:
    """A callback logging one finished study run: its config as parameters, its metrics, its confusion
    matrix."""
    mlflow = open_store(out, experiment)

    def log(step: str, cfg: KeyedConfig, result: dict[str, Any]) -> None:
        with mlflow.start_run(run_name=f"{step}:{cfg.key()}"):
            mlflow.set_tag("step", step)
            mlflow.log_params({k: v for k, v in result["config"].items()})
            mlflow.log_metrics(
                {
                    "accuracy": result["accuracy"],
                    "balanced_accuracy": result["balanced_accuracy"],
                    "n_real": result["n_real"],
                    "n_synthetic": result["n_synthetic"],
                    "best_epoch": result["best_epoch"],
                    **{f"recall_{c}": v for c, v in result["per_class_recall"].items()},
                }
            )
            mlflow.log_dict({"confusion": result["confusion"]}, "confusion.json")

    return log
