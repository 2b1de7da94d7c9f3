"""`evaluate(run, data)`: a trained run measured on a labelled dataset, written to a folder.

Outputs: metrics.json (accuracy, balanced accuracy, macro F1, per-class precision/recall/F1, confusion
matrix counts, bootstrap 95 % intervals by group, accuracy with and without each 0/1 metadata flag such
as ships-dev's masked_cutout and low_detail), predictions.csv, confusion.png (counts and row-normalised)
and mistakes.png (the most confident wrong predictions).

The model's classes can be mapped onto the test set's names (`mapping`: from,to lines, as `feint data
select --map`): probabilities of model classes mapped to one name are added; a model class mapped to
nothing is never predicted. A test class that no model class maps to is an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from feint.errors import FeintError
from feint.evaluation import metrics as M
from feint.evaluation.predict import ClassifierModel


def class_mapping(
    model_classes: Sequence[str], mapping: Sequence[tuple[int, str, str | None]] | None, where: str = "--map"
) -> tuple[list[str], np.ndarray]:
    """Target names and the (model classes x targets) 0/1 matrix that adds probabilities onto them."""
    table: dict[str, str | None] = {}
    for line, src, dst in mapping or []:
        if src not in model_classes:
            raise FeintError(
                f"{where}: line {line}: {src!r} is not a class of the model "
                f"(model classes: {', '.join(model_classes)})"
            )
        table[src] = dst
    targets: list[str] = []
    for c in model_classes:
        t = table.get(c, c)
        if t is not None and t not in targets:
            targets.append(t)
    matrix = np.zeros((len(model_classes), len(targets)), dtype=np.float32)
    for i, c in enumerate(model_classes):
        t = table.get(c, c)
        if t is not None:
            matrix[i, targets.index(t)] = 1.0
    return targets, matrix


def evaluate(
    model: str | Path | ClassifierModel,
    data: str | Path,
    split: str | None = None,
    mapping: str | Path | None = None,
    out: str | Path | None = None,
    fmt: str | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    cache: str | Path | None = None,
    progress: bool = False,
    mistakes: int = 24,
    device: str = "cpu",
    classes: Sequence[str] | None = None,
    overwrite: bool = False,
) -> dict[str, Any]:
    """Score the model (a run folder, or an exported one opened by `feint.deploy`) on the dataset (only
    `classes` of it, if given); write the report into `out` (default RUN/eval-<data name>[-split], or
    MODEL-eval-... beside an exported file; an earlier report there is replaced only with `overwrite`)."""
    from feint.datasets import load_dataset
    from feint.datasets.select import keep_classes, read_mapping
    from feint.errors import note
    from feint.evaluation.plots import plot_confusion, plot_mistakes
    from feint.evaluation.runs import load_run
    from feint.io import write_json_atomic, write_text_atomic
    from feint.outputs import Inputs, check_folder_output, folder_output, run_files, write_output_card

    run = load_run(model) if isinstance(model, str | Path) else model
    dataset = load_dataset(Path(data), fmt)
    if split is None and "test" in dataset.splits:  # never score the training images by default
        split = "test"
        note(f"no --split given: evaluating on the 'test' split of {data}")
    if split is not None:
        dataset = load_dataset(Path(data), fmt, split)
    name = f"eval-{Path(data).name}{'-' + split if split else ''}"
    if run.path.is_file():  # an exported model: the report goes beside it
        default_out, model_files = run.path.parent / f"{run.path.stem}-{name}", Inputs.of(files=[run.path])
    else:
        default_out, model_files = run.path / name, run_files(run.path)
    out = Path(out) if out else default_out
    inputs = Inputs.of_datasets([data], [dataset]) + model_files
    check_folder_output(out, inputs, overwrite)
    if classes:
        dataset = keep_classes(dataset, list(classes))
    entries = read_mapping(Path(mapping)) if mapping else None
    targets, to_target = class_mapping(run.classes, entries, str(mapping))
    records = [r for r in dataset.records if r.primary_class is not None]
    if not records:
        raise FeintError(f"{data}: no labelled images to evaluate on")
    labels = [r.primary_class for r in records if r.primary_class is not None]
    for r in records:
        if r.primary_class not in targets:
            raise FeintError(
                f"{r.image}: class {r.primary_class!r} is unknown to the model {run.path} "
                f"(its classes: {', '.join(targets)}); keep only those with --classes "
                f"{','.join(targets)}, or map model classes onto the data's names with --map FILE "
                "(lines 'model_class,data_class')"
            )
    paths = [r.image for r in records]
    probs = (
        run.predict_proba(
            paths, [(r.width, r.height) for r in records], cache, progress=progress, device=device
        )
        @ to_target
    )
    y_true = np.array([targets.index(label) for label in labels])
    y_pred = probs.argmax(1)
    cm = M.confusion_matrix(y_true, y_pred, len(targets))
    result = M.summary(cm, targets)
    groups = [r.group for r in records]
    result["bootstrap_95"] = M.bootstrap(
        y_true,
        y_pred,
        len(targets),
        {"accuracy": M.accuracy, "balanced_accuracy": M.balanced_accuracy},
        groups,
        n_bootstrap,
        seed,
    )
    result["bootstrap"] = {
        "resamples": n_bootstrap,
        "unit": "group",
        "groups": len(set(groups)),
        "seed": seed,
    }
    result["confusion_matrix"] = {
        "classes": targets,
        "counts": cm.tolist(),
        "normalised": np.round(M.normalise_rows(cm), 4).tolist(),
    }
    result["subsets"] = {}
    for flag, on in M.flag_columns([r.meta for r in records]).items():
        for value, keep in ((1, on), (0, ~on)):
            sub = M.confusion_matrix(y_true[keep], y_pred[keep], len(targets))
            result["subsets"][f"{flag}={value}"] = {
                "images": int(keep.sum()),
                "accuracy": M.accuracy(sub),
                "balanced_accuracy": M.balanced_accuracy(sub),
            }
    result.update(
        {
            "run": str(run.path),
            **run.record(),
            "data": str(data),
            "split": split,
            "classes": list(classes) if classes else None,
            "map": str(mapping) if mapping else None,
            "model_classes": run.classes,
        }
    )

    import pandas as pd

    score = probs[np.arange(len(records)), y_pred]
    table = pd.DataFrame(
        {
            "file": [str(p) for p in paths],
            "class": [targets[k] for k in y_true],
            "predicted": [targets[k] for k in y_pred],
            "score": np.round(score, 5),
            "correct": y_true == y_pred,
            "group": groups,
        }
    )
    for flag, on in M.flag_columns([r.meta for r in records]).items():
        table[flag] = on.astype(int)
    with folder_output(out, inputs, overwrite) as tmp:
        write_text_atomic(tmp / "predictions.csv", table.to_csv(index=False, lineterminator="\n"))
        write_json_atomic(tmp / "metrics.json", result)
        title = f"{run.path.name} on {Path(data).name}{' (' + split + ')' if split else ''}"
        plot_confusion(cm, targets, tmp / "confusion.png", title)
        wrong = np.flatnonzero(y_true != y_pred)
        worst = wrong[np.argsort(-score[wrong], kind="stable")][:mistakes]
        plot_mistakes(
            [paths[i] for i in worst],
            [targets[y_true[i]] for i in worst],
            [targets[y_pred[i]] for i in worst],
            score[worst].tolist(),
            tmp / "mistakes.png",
        )
        write_output_card(tmp, "eval", {"run": str(run.path), "data": str(data), "split": split})
    result["out"] = str(out)
    return result
