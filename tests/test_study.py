"""A tiny study end to end: tables, headline numbers, report sections, resume without redoing runs; a
study scored on validation photos; the class map of photos and a separate test set; paths in a study file."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import yaml

from feint.errors import FeintError
from feint.studies import runs as runs_module
from feint.studies.registry import chosen_steps
from feint.studies.study import StudyRunner

pytestmark = pytest.mark.blender

SECTIONS = [
    "headlines",
    "baseline",
    "epochs",
    "mixing",
    "zero-shot",
    "real-confusion",
    "grid",
    "hard-photos",
    "examples",
    "failure",
    "table",
]


def test_tiny_study_runs_resumes_and_reports(tiny_spec, tmp_path, monkeypatch):
    cache, out = tmp_path / "cache", tmp_path / "study"
    calls = {"n": 0}
    real_execute = runs_module.execute

    def failing_after_four(cfg, data):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt  # a kill in the middle of the study
        return real_execute(cfg, data)

    monkeypatch.setattr(runs_module, "execute", failing_after_four)
    with pytest.raises(KeyboardInterrupt):
        StudyRunner(tiny_spec, out, cache, progress=False).run()
    finished = set((out / "runs").glob("*.json"))
    assert len(finished) == 4

    counted = {"n": 0}

    def counting(cfg, data):
        counted["n"] += 1
        return real_execute(cfg, data)

    monkeypatch.setattr(runs_module, "execute", counting)
    result = StudyRunner(tiny_spec, out, cache, progress=False).run()
    unique_runs = result.table.run.nunique()
    assert counted["n"] == unique_runs - 4, "finished runs are not redone"
    assert set((out / "runs").glob("*.json")) >= finished

    table = result.table
    epochs = table[table.step == "epochs"]
    # the fit goes through the best epochs the epochs step found, each within the epochs it trained
    assert sorted(y for _, y in result.epoch_fit["points"]) == sorted(epochs.best_epoch)
    assert all(1 <= y <= tiny_spec.epochs.max_epochs for _, y in result.epoch_fit["points"])
    assert set(table.step) >= {
        "epochs",
        "baseline",
        "zero_shot",
        "finetune:finetune",
        "finetune:merged",
        "grid",
    }
    assert table.accuracy.between(0, 1).all()
    summary = json.loads((out / "summary.json").read_text())
    assert 0 <= summary["headlines"]["zero_shot_accuracy"] <= 1
    assert summary["headlines"]["real_100_accuracy"] > 0.5  # two easy classes, all real data
    page = (out / "report.html").read_text()
    for section in SECTIONS:
        assert f"id='{section}'" in page, section
    for step in chosen_steps(tiny_spec.steps):  # every step's report section, as its registration says
        assert step.section is None or f"id='{step.section}'" in page, step.name
    assert len(re.findall(r"data:image/png;base64,", page)) >= 6
    assert 'src="http' not in page  # self-contained
    assert f"at {tiny_spec.synthetic.size} px from graph" in page  # the render size is part of the setup
    assert "mirrored real photos" in page  # so is the flip augmentation of the photos (on by default)
    assert "label smoothing 0;" in page  # and the heads' loss (no smoothing by default)
    # and the mixed runs' share of renders, chosen per real share on the validation photos
    chosen = summary["mixing_weights"]["0.5"]
    assert f"chosen on the validation photos: {100 * chosen:g} % at 50 % real" in page
    merged = table[(table.step == "finetune:merged") & (table.real_fraction == 0.5)]
    assert len(merged) and (merged.synthetic_weight == chosen).all()
    failure = json.loads((out / "failure" / "failure.json").read_text())
    assert set(failure["classes"]) == {"sailboat", "submarine"}
    # the photos at least half the runs trained on photos miss, counted again from the runs' own records
    keys = table[(table.n_real > 0) & (table.step != "mixing")].run.unique()  # mixing: scored on val
    trained = [json.loads((out / "runs" / f"{k}.json").read_text()) for k in keys]
    missed = 1 - np.mean([r["correct"] for r in trained], axis=0)
    hard = pd.read_csv(out / "hard_photos.csv")
    assert len(hard) == (missed >= 0.5).sum() == summary["hard_photos"]
    assert sorted(hard.missed_by.round(6)) == sorted(missed[missed >= 0.5].round(6))

    # `feint study compare`: the zero-shot table equals the mean of the zero-shot runs' own numbers
    from typer.testing import CliRunner

    from feint.cli import _register, app

    _register()

    zero = [
        json.loads((out / "runs" / f"{k}.json").read_text()) for k in table[table.step == "zero_shot"].run
    ]
    cli = CliRunner().invoke(
        app, ["study", "compare", str(out), str(out), "--labels", "a,b", "--figure", str(tmp_path / "cm.png")]
    )
    assert cli.exit_code == 0, cli.output
    recall = sum(z["per_class_recall"]["submarine"] for z in zero) / len(zero)
    assert f"| submarine | {recall:.2f} | {recall:.2f} |" in cli.output
    assert (tmp_path / "cm.png").stat().st_size > 1000
    wrong = CliRunner().invoke(app, ["study", "compare", str(tmp_path)])
    assert isinstance(wrong.exception, FeintError) and "not a finished study folder" in str(wrong.exception)


def test_a_study_uses_the_renders_it_asked_for_whatever_the_cache_holds(tiny_spec, tmp_path):
    """A render folder extended by a bigger study (same graph, seed and size) must not change a smaller
    study's synthetic set, its alignment statistics or its run keys."""
    import numpy as np

    from feint.graph.loader import load_graph_dict
    from feint.studies.data import prepare, render_balanced
    from feint.studies.fingerprint import fingerprint

    spec = tiny_spec.model_copy(update={"steps": ["zero_shot"]})
    per_class = spec.synthetic.per_class
    before = prepare(spec, tmp_path, progress=False)
    assert np.bincount(before.synthetic.labels).tolist() == [per_class] * len(spec.classes)

    merged, _ = load_graph_dict(spec.synthetic.graph)
    s = spec.synthetic
    render_balanced(merged, spec.classes, per_class + 4, s.size, s.seed, tmp_path, s.workers, progress=False)
    after = prepare(spec, tmp_path, progress=False)
    assert after.synthetic_root == before.synthetic_root
    assert [p.name for p in after.synthetic.paths] == [p.name for p in before.synthetic.paths]
    assert np.array_equal(after.synthetic.features, before.synthetic.features)
    assert fingerprint(spec, after) == fingerprint(spec, before)


def test_a_study_scored_on_validation_never_reads_the_test_split(tiny_spec, tmp_path, feint_cli):
    """`score_on: validation` trains on one half of the training split (cut by group) and scores on the
    other; no photo of the test split enters any part, and the report says what was scored."""
    from typer.testing import CliRunner

    from feint.cli import _register, app
    from feint.studies.data import prepare

    _register()
    spec = tiny_spec.model_copy(update={"steps": ["baseline"], "baseline_fractions": [1.0]})
    usual = prepare(spec, tmp_path, progress=False)
    held = prepare(spec.model_copy(update={"score_on": "validation"}), tmp_path, progress=False)

    train, scored = set(held.train.paths), set(held.test.paths)
    assert train and scored and train | scored == set(usual.train.paths)  # the training split, cut in two
    assert not set(held.train.groups) & set(held.test.groups)  # by group, as every split here
    assert set(held.val.paths) == set(usual.val.paths)
    seen = train | scored | set(held.val.paths)
    assert not seen & set(usual.test.paths)
    assert set(held.test.labels.tolist()) == {0, 1}  # both classes are scored

    study = tmp_path / "tiny.yaml"
    study.write_text(yaml.safe_dump(spec.model_dump()))
    out = tmp_path / "study"
    cli = CliRunner().invoke(
        app, ["study", "run", str(study), "--score-on", "validation", "-o", str(out), "--tracker", "none"]
    )
    assert cli.exit_code == 0, cli.output
    assert not (out / "mlflow.db").exists() and not (out / "wandb").exists()
    assert "held-out validation photos" in cli.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["score_on"] == "validation" and summary["n_test"] == len(scored)
    assert "the test split is not used" in (out / "report.html").read_text()
    code, _, err = feint_cli("study", "run", study, "--score-on", "sealed")
    assert code == 2 and err.startswith("feint: error: ") and "'--score-on'" in err and "'validation'" in err


def test_validation_halves_refuse_a_class_too_few_ships_to_cut_in_two(tmp_path):
    from feint.datasets.core import Dataset, Record
    from feint.studies.data import validation_halves

    records = [
        Record(tmp_path / f"s{g}-{k}.jpg", 8, 8, "sailboat", group=f"s{g}") for g in range(6) for k in (0, 1)
    ]
    records += [Record(tmp_path / f"t-{k}.jpg", 8, 8, "tug", group="the only tug") for k in range(5)]
    train = Dataset(["sailboat", "tug"], records, tmp_path)
    with pytest.raises(FeintError, match="class 'tug' has 1 group"):
        validation_halves(train, seed=0)
    halves = validation_halves(Dataset(["sailboat"], records[:12], tmp_path), seed=0)
    assert {len(v) for v in halves.values()} == {6}  # six ships, three a half, whole


def test_a_class_map_renames_the_classes_of_the_real_data_and_the_test_set_each(tmp_path):
    """The photos and a separate test set may name the same class differently; each maps the names it
    holds, and a name in neither is refused."""
    from PIL import Image

    from feint.studies.data import load_real
    from feint.studies.spec import StudySpec

    def folder(name: str, classes: list[str]) -> str:
        for c in classes:
            for k in range(4):
                (tmp_path / name / c).mkdir(parents=True, exist_ok=True)
                Image.new("RGB", (16, 12), (40 * k, 90, 30)).save(tmp_path / name / c / f"{k}.jpg")
        return str(tmp_path / name)

    spec = StudySpec(
        name="t",
        real=folder("kaggle", ["sailboat", "tug", "cruise"]),
        test=folder("roboflow", ["sailing_vessel", "tug", "kayak"]),
        classes=["sailboat", "tug"],
        class_map={"sailing_vessel": "sailboat"},
    )
    train_val, test = load_real(spec)
    assert train_val.classes == test.classes == ["sailboat", "tug"]
    assert sorted(r.primary_class for r in test.records) == ["sailboat"] * 4 + ["tug"] * 4
    assert {r.primary_class for r in train_val.records} == {"sailboat", "tug"}
    with pytest.raises(FeintError, match="class_map: sailing_boat not a class of"):
        load_real(spec.model_copy(update={"class_map": {"sailing_boat": "sailboat"}}))


def test_a_study_file_names_its_data_relative_to_itself(tmp_path, monkeypatch):
    from feint.studies.spec import load_study

    for name in ("photos", "other"):
        (tmp_path / "data" / name).mkdir(parents=True)
    (tmp_path / "studies").mkdir()
    study = tmp_path / "studies" / "s.yaml"
    study.write_text("name: s\nreal: ../data/photos\ntest: ../data/other\nclasses: [a]\n")
    monkeypatch.chdir(tmp_path / "data")  # anywhere but beside the study file
    spec = load_study(study)
    assert spec.real == str(tmp_path / "data" / "photos")
    assert spec.test == str(tmp_path / "data" / "other")


def test_a_study_scored_on_validation_photos_has_a_folder_of_its_own():
    """Whether its file or `--score-on` says so, it never writes over the test-scored study's report."""
    from feint.studies.spec import StudySpec

    spec = StudySpec(name="s", real="photos", classes=["a"])
    assert spec.folder_name() == "study-s"
    assert spec.model_copy(update={"score_on": "validation"}).folder_name() == "study-s-validation"
