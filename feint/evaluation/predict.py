"""`predict(run, images)`: top-k classes and scores for image files, as a table (CSV by the CLI); the model
is a run folder or an exported model opened by `feint.deploy`."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from feint.errors import FeintError


class ClassifierModel(Protocol):
    """What `predict` and `evaluate` need of a model: a run (`feint.evaluation.runs.Run`) or an exported
    one (`feint.deploy.OnnxClassifier`)."""

    path: Path

    @property
    def classes(self) -> list[str]: ...

    def record(self) -> dict[str, Any]:
        """What an evaluation report says of the model: its mode, backbone and input size."""
        ...

    def predict_proba(
        self,
        paths: Sequence[Path],
        sizes: Sequence[tuple[int | None, int | None]] | None = None,
        cache: str | Path | None = None,
        batch: int = 64,
        progress: bool = False,
        device: str = "cpu",
    ) -> np.ndarray: ...


def list_images(inputs: Sequence[str | Path]) -> list[Path]:
    """Image files named, and every image under folders named (sorted); an error if there are none."""
    from feint.datasets.images import is_image

    found: list[Path] = []
    for item in map(Path, inputs):
        if item.is_dir():
            found += sorted(p for p in item.rglob("*") if p.is_file() and is_image(p))
        elif item.is_file():
            found.append(item)
        else:
            raise FeintError(f"{item}: no such image or folder")
    if not found:
        raise FeintError(f"no images found in {', '.join(map(str, inputs))}")
    return found


def predict(
    run_path: str | Path | ClassifierModel,
    inputs: Sequence[str | Path],
    top_k: int = 3,
    cache: str | Path | None = None,
    progress: bool = False,
    device: str = "cpu",
) -> Any:
    """DataFrame: file, then class_1, score_1 ... class_k, score_k (best first). `run_path` is a run
    folder, or a model already opened (an exported one: `feint.deploy.open_exported`)."""
    import pandas as pd

    from feint.evaluation.runs import load_run

    run = load_run(run_path) if isinstance(run_path, str | Path) else run_path
    paths = list_images(inputs)
    probs = run.predict_proba(paths, cache=cache, progress=progress, device=device)
    k = max(1, min(top_k, len(run.classes)))
    order = np.argsort(-probs, axis=1, kind="stable")[:, :k]
    table: dict[str, Any] = {"file": [str(p) for p in paths]}
    for j in range(k):
        table[f"class_{j + 1}"] = [run.classes[i] for i in order[:, j]]
        table[f"score_{j + 1}"] = np.round(probs[np.arange(len(paths)), order[:, j]], 5)
    return pd.DataFrame(table)
