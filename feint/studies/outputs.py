"""What a study leaves in its folder: the results table, the summary, the images it used, the hard photos,
the ablations and the HTML report, each written to a temporary name first."""

from __future__ import annotations

from typing import Any

import pandas as pd

from feint.io import write_bytes_atomic, write_json_atomic, write_text_atomic
from feint.studies.data import StudyData
from feint.studies.result import StudyResult


def write_outputs(result: StudyResult, data: StudyData, seconds: float) -> None:
    spec, out, table = result.spec, result.out, result.table
    write_bytes_atomic(out / "results.parquet", table.to_parquet(index=False))
    write_text_atomic(out / "results.csv", table.to_csv(index=False))
    summary: dict[str, Any] = {
        "name": spec.name,
        "epoch_fit": result.epoch_fit,
        "headlines": result.headlines,
        "failure": result.failure.get("summary", {}),
        "seconds": round(seconds, 1),
        "classes": spec.classes,
        "score_on": spec.score_on,
        "n_test": int(len(data.test.labels)),
        # classes without a photo among the scored ones (a separate test set may lack some): the accuracy
        # is over the photos there are, per-class numbers are for the other classes only
        "test_classes_absent": data.test_classes_absent,
        "n_train": int(len(data.train.labels)),
        "n_val": int(len(data.val.labels)),
        "mode": spec.mode,
        "device": result.device,
    }
    if result.mixing:  # real share -> share of renders per batch chosen on the validation photos
        summary["mixing_weights"] = {f"{k:g}": v for k, v in sorted(result.mixing.items())}
    if result.hard_photos is not None:
        write_text_atomic(out / "hard_photos.csv", result.hard_photos.to_csv(index=False))
        summary["hard_photos"] = len(result.hard_photos)
    if result.ablations is not None:
        from feint.tuning.ablate import write_ablations

        write_ablations(result.ablations, out / "ablations")
        summary["ablations"] = result.ablations.to_dict(orient="records")
    write_text_atomic(out / "images.csv", images_table(data).to_csv(index=False))
    write_json_atomic(out / "summary.json", summary)
    _write_report(result, data)


def images_table(data: StudyData) -> pd.DataFrame:
    """Every image the study used: role (train, val, test: the photos its runs were scored on, in scoring
    order, which each run's `predicted` list follows; synthetic: its renders), file, group and class. What
    `feint ui` needs to open the photos behind a cell of a confusion matrix, and their nearest renders."""
    parts = [("train", data.train), ("val", data.val), ("test", data.test)]
    if data.synthetic is not None:
        parts.append(("synthetic", data.synthetic))
    rows = [
        {"role": role, "file": str(path), "group": group, "label": data.classes[int(label)]}
        for role, part in parts
        for path, group, label in zip(part.paths, part.groups, part.labels, strict=True)
    ]
    return pd.DataFrame(rows, columns=["role", "file", "group", "label"])


def _write_report(result: StudyResult, data: StudyData) -> None:
    """report.html, from plain values: the report reads no study object."""
    from feint.reports.study import StudyFindings, write_report

    findings = StudyFindings(
        spec=result.spec.model_dump(),
        folder=result.out,
        table=result.table,
        headlines=result.headlines,
        epoch_fit=result.epoch_fit,
        train=data.train,
        val=data.val,
        test=data.test,
        renders=data.synthetic,
        failure=result.failure,
        ablations=result.ablations,
        hard_photos=result.hard_photos,
        mixing=result.mixing,
    )
    write_report(findings, result.out / "report.html")
