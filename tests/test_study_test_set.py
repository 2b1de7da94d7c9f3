"""A separate test set may hold only some of a study's classes: the study scores what is there and says
which classes were absent (a note, summary.json, the report); the training data must hold every class, and a
test set with none of them is refused in one line."""

import json
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from feint.errors import FeintError


def _manifest(folder: Path, photos: pd.DataFrame, root: Path) -> Path:
    """A manifest of ships-dev photos referenced by relative path from `folder` (no photo is copied)."""
    folder.mkdir(parents=True)
    rows = photos.assign(file=[os.path.relpath(root / f, folder) for f in photos.file])
    rows.to_csv(folder / "manifest.csv", index=False)
    return folder


def _groups(table: pd.DataFrame, name: str, skip: int, photos: int) -> pd.DataFrame:
    """Whole groups of class `name` (sorted, after the first `skip`) until there are `photos` photos."""
    rows = table[table["class"] == name]
    taken: list[pd.DataFrame] = []
    for _, group in sorted(rows.groupby("group"))[skip:]:
        if sum(map(len, taken)) >= photos:
            break
        taken.append(group)
    return pd.concat(taken)


@pytest.mark.blender
def test_a_study_scores_a_test_set_that_lacks_one_of_its_classes(real_data, tmp_path, feint_cli):
    """Three classes, a test set of two: the run succeeds, tug is named absent (note, summary.json,
    report), per-class numbers exist for sailboat and submarine only, and the accuracy is the share of the
    test photos predicted right."""
    root = real_data / "ships-dev"
    table = pd.read_csv(root / "manifest.csv")
    classes = ["sailboat", "submarine", "tug"]
    train = pd.concat([_groups(table, c, 0, 14) for c in classes])
    test = pd.concat([_groups(table, c, 20, 5) for c in classes[:2]])
    assert not set(train.group) & set(test.group)
    _manifest(tmp_path / "real", train, root)
    _manifest(tmp_path / "test", test, root)
    study = tmp_path / "partial.yaml"
    study.write_text(
        "name: partial\nreal: real\ntest: test\nclasses: [sailboat, submarine, tug]\nseeds: [0]\n"
        "image_size: 64\nsynthetic: {per_class: 10, size: 64, workers: 2}\n"
        "steps: [baseline, zero_shot, failure]\nbaseline_fractions: [1.0]\n"
    )
    out = tmp_path / "study"
    code, _, err = feint_cli(
        "study", "run", study, "-o", out, "--cache", tmp_path / "cache", "--tracker", "none", "--quiet"
    )
    assert code == 0, err
    note = r"feint: note: .*test: no test photos of tug: the study is scored on the 2 of its 3 classes"
    assert re.search(note, err), err

    summary = json.loads((out / "summary.json").read_text())
    assert summary["test_classes_absent"] == ["tug"] and summary["n_test"] == len(test)
    images = pd.read_csv(out / "images.csv")
    scored = images[images.role == "test"]
    assert len(scored) == len(test) and set(scored.label) == {"sailboat", "submarine"}
    labels = np.array([classes.index(c) for c in scored.label])
    results = pd.read_parquet(out / "results.parquet")
    assert set(results.step) == {"baseline", "zero_shot"}
    for _, row in results.iterrows():
        run = json.loads((out / "runs" / f"{row.run}.json").read_text())
        predicted = np.array(run["predicted"])
        assert row.accuracy == run["accuracy"] == pytest.approx(float((predicted == labels).mean()))
        assert set(run["per_class_recall"]) == {"sailboat", "submarine"}
        cm = np.array(run["confusion"])
        assert run["classes"] == classes and cm.shape == (3, 3) and cm[2].sum() == 0
        assert cm.sum() == len(test) and np.trace(cm) == int((predicted == labels).sum())
        recalls = [cm[k, k] / cm[k].sum() for k in (0, 1)]
        assert run["per_class_recall"]["sailboat"] == pytest.approx(recalls[0])
        assert run["balanced_accuracy"] == pytest.approx(np.mean(recalls))

    failure = json.loads((out / "failure" / "failure.json").read_text())
    assert failure["classes"]["tug"]["test_images"] == 0 and failure["classes"]["tug"]["wrong"] == 0

    page = (out / "report.html").read_text()
    assert "Not in the test set: tug</b> (1 of the 3 classes)" in page
    zero_shot = page[page.index("id='zero-shot'") : page.index("</section>", page.index("id='zero-shot'"))]
    assert "<th>sailboat</th><td>" in zero_shot and "<th>submarine</th><td>" in zero_shot
    assert "<th>tug</th>" not in zero_shot  # no recall row for the absent class, neither 0 % nor NaN
    assert "mean recall over the 2 classes with test photos" in zero_shot
    assert "<th>tug</th><td>" in page and "<td colspan='2'>not in the test set</td>" in page  # failure table

    # `feint study compare`: no recall for tug, a dash and a line saying why
    code, stdout, err = feint_cli("study", "compare", out)
    assert code == 0, err
    assert "| sailboat | " in stdout and "| tug | - |" in stdout and "no photos of the class" in stdout


def test_the_training_data_must_hold_every_class_a_test_set_some(tmp_path):
    """load_real: a test set lacking a class is kept (its class list the study's); real data lacking one
    is refused as before."""
    from feint.studies.data import load_real
    from feint.studies.spec import StudySpec

    def folder(name: str, classes: list[str]) -> str:
        for c in classes:
            (tmp_path / name / c).mkdir(parents=True)
            for k in range(4):
                Image.new("RGB", (16, 12), (40 * k, 90, 30)).save(tmp_path / name / c / f"{k}.jpg")
        return str(tmp_path / name)

    spec = StudySpec(
        name="t",
        real=folder("photos", ["sailboat", "tug", "kayak"]),
        test=folder("other", ["tug", "kayak"]),
        classes=["sailboat", "tug"],
    )
    _, test = load_real(spec)
    assert test.classes == ["sailboat", "tug"]
    assert [r.primary_class for r in test.records] == ["tug"] * 4
    with pytest.raises(FeintError, match=r"other: classes sailboat not in the data"):
        load_real(spec.model_copy(update={"real": spec.test, "test": spec.real}))


def test_a_test_set_with_none_of_the_study_classes_is_refused_in_one_line(tmp_path, feint_cli):
    for name, classes in (("photos", ["sailboat", "tug"]), ("other", ["kayak", "cruise"])):
        for c in classes:
            (tmp_path / name / c).mkdir(parents=True)
            for k in range(4):
                Image.new("RGB", (16, 12), (40 * k, 90, 30)).save(tmp_path / name / c / f"{k}.jpg")
    study = tmp_path / "s.yaml"
    study.write_text("name: s\nreal: photos\ntest: other\nclasses: [sailboat, tug]\nsteps: [baseline]\n")
    code, _, err = feint_cli("study", "run", study, "-o", tmp_path / "out", "--tracker", "none", "--quiet")
    assert code == 2
    other = (tmp_path / "other").resolve()
    assert err == (
        f"feint: error: {other}: the test set holds none of the study's classes (sailboat, tug); its "
        "classes: cruise, kayak (a class_map renames them)\n"
    )
