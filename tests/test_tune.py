"""`feint tune` and `feint ablate`: a tiny tuning run completes, resumes after a kill and when extended,
writes a valid graph; bad search spaces are one-line errors; an ablation run writes its table and chart."""

from __future__ import annotations

import json
import math
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from PIL import Image, ImageDraw

from feint.errors import FeintError
from feint.graph import load_graph
from feint.graph.loader import load_graph_dict
from feint.graph.overrides import apply_overrides, lookup, same, validate_graph
from feint.tuning import tune as tune_module
from feint.tuning.ablate import FEATURES, feature_table, switched_off
from feint.tuning.space import build_space, load_space
from feint.tuning.tune import Tuner, make_settings, tune

CLASSES = ["sailboat", "submarine"]
TINY = ["--classes", ",".join(CLASSES), "--per-class", "2", "--size", "64", "--image-size", "64"]


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("FEINT_CACHE", str(cache))
    return cache


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One torch thread: two spin-waiting OpenMP threads on a busy 2-core machine are slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def val(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny real validation set (ImageFolder): 4 ships-dev photos per class with FEINT_REAL_DATA, else
    generated stand-ins (a dark hull shape on sea and sky)."""
    import os

    root = tmp_path_factory.mktemp("val") / "val"
    source = Path(os.environ.get("FEINT_REAL_DATA", "/nonexistent")) / "ships-dev"
    rng = np.random.default_rng(0)
    for c, name in enumerate(CLASSES):
        (root / name).mkdir(parents=True)
        if source.is_dir():
            for path in sorted((source / name).iterdir())[:4]:
                shutil.copy(path, root / name / path.name)
            continue
        for i in range(4):
            img = np.zeros((48, 64, 3), np.uint8)
            img[:24] = (150, 180, 210)
            img[24:] = (30, 60, 90)
            img = Image.fromarray((img + rng.integers(0, 30, img.shape)).astype(np.uint8))
            draw = ImageDraw.Draw(img)
            draw.rectangle([8, 20, 56, 30] if c else [28, 4, 32, 30], fill=(60, 60, 60))
            img.save(root / name / f"{name}-{i}.png")
    return root


def feint(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: object):
    """Run `feint ARGS` in this process; (exit code, stdout, stderr)."""
    from feint.cli import main

    monkeypatch.setattr(sys, "argv", ["feint", *map(str, args)])
    with pytest.raises(SystemExit) as done:
        main()
    out, err = capsys.readouterr()
    return done.value.code, out, err


def _renders(out: Path) -> int:
    return len(list(out.glob("renders/*/records/*.json")))


def _trials(out: Path) -> pd.DataFrame:
    return pd.read_csv(out / "trials.csv")


def _tracked(out: Path) -> list[tuple[str, str]]:
    """The runs of the MLflow store in `out` (`--tracker mlflow`): name and status."""
    import sqlite3

    with sqlite3.connect(out / "mlflow.db") as db:
        return sorted(db.execute("select name, status from runs").fetchall())


def _leaves(data: dict, prefix: str = "") -> dict:
    """Dotted paths of a graph file's parameters (a distribution is a one-key mapping: a leaf)."""
    from feint.graph.distributions import _KINDS

    found = {}
    for key, value in data.items():
        if isinstance(value, dict) and not (len(value) == 1 and next(iter(value)) in _KINDS):
            found.update(_leaves(value, f"{prefix}{key}."))
        else:
            found[f"{prefix}{key}"] = value
    return found


@pytest.mark.blender
def test_tiny_tuning_run_resumes_after_a_kill_and_extends(val, tmp_path, monkeypatch, capsys):
    out = tmp_path / "tune"
    settings = make_settings(
        "marine", val, None, CLASSES, None, per_class=2, size=64, image_size=64, trials=2
    )
    real_run_trial = Tuner.run_trial
    calls = {"n": 0}

    def killed_at_second_trial(self, study, trial):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # a kill in the middle of trial 1: it stays RUNNING in optuna.db
        return real_run_trial(self, study, trial)

    monkeypatch.setattr(Tuner, "run_trial", killed_at_second_trial)
    with pytest.raises(KeyboardInterrupt):
        tune(settings, out, progress=False)
    monkeypatch.setattr(Tuner, "run_trial", real_run_trial)

    tracked = ("--tracker", "mlflow")
    code, stdout, err = feint(
        monkeypatch, capsys, "tune", "marine", "--real", val, *TINY, "--trials", 2, "-o", out, *tracked
    )
    assert code in (0, None), err
    trials = _trials(out)
    assert list(trials.state) == ["COMPLETE", "FAIL", "COMPLETE"]  # trial 1 killed, run again as trial 2
    assert _tracked(out) == [("trial 0", "FINISHED"), ("trial 2", "FINISHED")]  # the finished trials
    assert f"MLflow: 2 runs in {out / 'mlflow.db'}" in stdout
    assert trials.note.iloc[2] == "re-run of trial 1" and bool(trials.base.iloc[0])
    knobs = (".centre", ".width", ".mean", ".std", ".p")
    params = [c for c in trials.columns if "=" in c or c.endswith(knobs)]
    assert np.allclose(trials.loc[1, params].astype(float), trials.loc[2, params].astype(float))

    base = load_graph("marine")
    best = load_graph(out / "best.yaml")  # a valid graph that extends marine
    assert best.class_names() == base.class_names()
    changed = _leaves(yaml.safe_load((out / "best.yaml").read_text()))
    changed.pop("extends")
    assert all(not same(lookup(best, p), lookup(base, p)) for p in changed)  # only what changed
    tried = _leaves(yaml.safe_load((out / "trials" / "0002.yaml").read_text()))
    tried.pop("extends")
    assert len(tried) == len(load_space(None, base).knobs)
    assert any(not same(lookup(load_graph(out / "trials" / "0002.yaml"), p), lookup(base, p)) for p in tried)
    card = json.loads((out / "tune.json").read_text())
    assert card["best"]["score"] >= card["base"]["score"] and card["command"].startswith("feint tune marine")
    # the base graph and the best trials are scored again on other renders; the best mean wins if it
    # beats the base graph's by more than the base's own two scores differ
    confirmed = {int(k): v for k, v in json.loads((out / "confirm.json").read_text()).items()}
    assert set(confirmed) == {0, 2}  # trial 1 was killed: the base and the one other finished trial
    means = {n: (trials.score[n] + v) / 2 for n, v in confirmed.items()}
    noise = abs(trials.score[0] - confirmed[0])
    assert card["base_noise"] == pytest.approx(noise)
    assert card["best"]["trial"] == (2 if means[2] - means[0] > noise else 0)
    assert card["best"]["score"] == pytest.approx(means[card["best"]["trial"]])
    # half the photos (whole ships) were held out of the trials; the base and the pick scored on them
    assert card["n_real"] == 4 and card["held_out"]["photos"] == 4
    held = {int(k): v for k, v in json.loads((out / "holdout.json").read_text()).items()}
    assert set(held) == {0, card["best"]["trial"]}
    assert card["held_out"]["base"] == held[0] and card["held_out"]["best"] == held[card["best"]["trial"]]
    assert "held-out photos" in stdout and "id='held-out'" in (out / "report.html").read_text()
    assert "id='changes'" in (out / "report.html").read_text()

    renders = _renders(out)
    code, _, err = feint(
        monkeypatch, capsys, "tune", "marine", "--real", val, *TINY, "--trials", 2, "-o", out, *tracked
    )
    assert code in (0, None), err
    assert len(_trials(out)) == 3 and _renders(out) == renders  # resumed: nothing run again
    assert len(_tracked(out)) == 2  # nor logged again

    code, _, err = feint(
        monkeypatch, capsys, "tune", "marine", "--real", val, *TINY, "--trials", 3, "-o", out
    )
    assert code in (0, None), err
    trials = _trials(out)
    assert len(trials) == 4 and (trials.state == "COMPLETE").sum() == 3  # exactly one more trial
    assert _renders(out) > renders

    code, _, err = feint(
        monkeypatch,
        capsys,
        "tune",
        "marine",
        "--real",
        val,
        *TINY[:-2],
        "--image-size",
        96,
        "--trials",
        3,
        "-o",
        out,
    )
    assert code == 2 and "different image_size" in err


def _space(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "camera.fil: {range: true}",
            "camera.fil: not a parameter of graph 'marine' (did you mean camera.fill?)",
        ),
        ("camera.side: {range: true}", "camera.side: `range` needs a uniform"),
        ("camera.fill: {range: [0.9, 1.0]}", "camera.fill: range [0.9, 1] must hold the current range"),
        ("camera.fill: {range: [0.0, 2.0]}", "camera.fill: range [0, 2] leaves the allowed [0.01, 10]"),
        ("camera.fill: {weights: true}", "camera.fill: `weights` needs a choice"),
        ("camera.fill: {range: true, weights: true}", "camera.fill: give exactly one of"),
        ("camera.fill: {span: true}", "camera.fill: unknown key 'span'"),
        ("camera.fill: true", "camera.fill: expected a mapping such as {range: true}"),
        (
            "post.crop: {probability: [0.9, 1.0]}",
            "post.crop: probability [0.9, 1] must lie in [0, 1] and hold",
        ),
    ],
)
def test_bad_space_entry_is_a_one_line_error(val, tmp_path, monkeypatch, capsys, text, expected):
    space = _space(tmp_path, text)
    code, _, err = feint(
        monkeypatch, capsys, "tune", "marine", "--real", val, "--space", space, "-o", tmp_path / "out"
    )
    assert code == 2
    assert err.startswith(f"feint: error: {space}: {expected}"), err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_bad_inputs_are_refused_before_any_trial(val, tmp_path):
    with pytest.raises(FeintError, match="never on the test set"):
        make_settings("marine", val, "test")
    with pytest.raises(FeintError, match="class 'tanker' is not in graph 'marine'"):
        make_settings("marine", val, None, ["tanker"])
    with pytest.raises(FeintError, match="no images of class 'tug'"):
        make_settings("marine", val, None, ["tug"])
    with pytest.raises(FeintError, match="no such file or folder"):
        make_settings("marine", tmp_path / "missing")
    with pytest.raises(FeintError, match="no default search space for the bottles channel"):
        make_settings("bottles", val)


def test_base_trial_is_the_graph_and_an_impossible_proposal_is_pruned(val, tmp_path):
    """Trial 0 reproduces the graph's distributions; all-zero weights make no graph: pruned, not a crash."""
    settings = make_settings("marine", val, None, CLASSES, None, trials=2)
    tuner = Tuner(settings, tmp_path / "tune")
    base = load_graph("marine")
    for path, value in tuner.space.overrides(tuner.space.base_params()).items():
        assert same(
            lookup(validate_graph(apply_overrides(tuner.merged, {path: value})), path), lookup(base, path)
        )
    study = tuner.open_study()
    zeros = {k: 0.0 for k in tuner.space.distributions() if k.startswith("camera.elevation=")}
    study.enqueue_trial({**tuner.space.base_params(), **zeros})
    trial = study.ask(tuner.space.distributions())
    tuner.run_trial(study, trial)
    done = study.trials[0]
    assert done.state.name == "PRUNED" and done.user_attrs["invalid"] == "camera.elevation: every weight is 0"
    assert tune_module.count_finished(study) == 1


def test_held_out_photos_are_whole_ships_of_every_class_and_the_same_each_time():
    from feint.studies.data import Part
    from feint.tuning.score import held_out

    labels = np.repeat([0, 1], 12)
    groups = [f"ship{i // 3}" for i in range(24)]  # three photos a ship, four ships a class
    part = Part([Path(f"{i}.jpg") for i in range(24)], labels, groups, np.arange(24.0)[:, None])
    scored, held = held_out(part, 0.5, 0, ["a", "b"])
    again, _ = held_out(part, 0.5, 0, ["a", "b"])
    assert held is not None and again.paths == scored.paths
    assert not set(scored.groups) & set(held.groups)  # no ship on both sides
    for c in (0, 1):
        assert (held.labels == c).sum() == 6 and (scored.labels == c).sum() == 6
    assert sorted(scored.features[:, 0].tolist() + held.features[:, 0].tolist()) == list(range(24))
    assert held_out(part, 0.0, 0, ["a", "b"]) == (part, None)
    one_ship = Part(part.paths, labels, ["x"] * 12 + groups[12:], part.features)
    with pytest.raises(FeintError, match="class 'a' has 1 group"):
        held_out(one_ship, 0.5, 0, ["a", "b"])


def test_a_trial_must_beat_the_base_graph_by_more_than_its_batch_to_batch_noise():
    from types import SimpleNamespace

    from feint.tuning.outputs import pick

    def trial(number: int, value: float):
        state = SimpleNamespace(name="COMPLETE")
        return SimpleNamespace(number=number, value=value, state=state, user_attrs={"base": number == 0})

    base, lucky, better = trial(0, 0.45), trial(1, 0.52), trial(2, 0.60)
    # the base scores 0.45 and 0.49 (noise 0.04); trial 1 gains 0.02 on the mean: luck, the base stays
    assert pick([base, lucky], {0: 0.49, 1: 0.46}) == (base, base)
    assert pick([base, lucky, better], {0: 0.49, 1: 0.46, 2: 0.56}) == (better, base)
    assert pick([base, lucky], {}) == (lucky, base)  # no second scores: no noise known, the best score


def test_a_tuned_range_keeps_a_floor_width_inside_its_bounds():
    """A range is tuned as centre + width: no trial narrows it below a quarter of its bounds (a noisy
    small batch once collapsed camera.fill to 1.044-1.047), and a centre near a bound shifts the range in."""
    merged, _ = load_graph_dict("marine")
    graph = validate_graph(
        apply_overrides(
            merged,
            {"camera.fill": {"uniform": [0.75, 1.05]}, "camera.focal_length": {"loguniform": [35, 400]}},
        )
    )
    space = build_space(
        {
            "camera.fill": {"range": [0.5, 1.3]},
            "camera.focal_length": {"range": [20, 1000]},
            "post.jpeg_quality": {"range": [30, 100]},
        },
        graph,
        "test",
    )
    dists = space.distributions()
    for knob in space.knobs:
        centre, width = dists[f"{knob.path}.centre"], dists[f"{knob.path}.width"]
        for c in (centre.low, (centre.low + centre.high) / 2, centre.high):
            value = knob.value({f"{knob.path}.centre": c, f"{knob.path}.width": width.low})
            ((kind, (lo, hi)),) = value.items()
            assert knob.low <= lo < hi <= knob.high, (knob.path, value)
            if kind == "loguniform":
                assert math.log(hi / lo) >= 0.25 * math.log(knob.high / knob.low) * 0.99, value
            else:
                assert hi - lo >= 0.25 * (knob.high - knob.low) - 1, value
    fill = next(k for k in space.knobs if k.path == "camera.fill")
    assert fill.value({"camera.fill.centre": 1.3, "camera.fill.width": 0.2}) == {"uniform": [1.1, 1.3]}


def test_builtin_ablation_features_make_valid_graphs():
    merged, _ = load_graph_dict("marine")
    for name, overrides in FEATURES["marine"].items():
        graph = validate_graph(switched_off(merged, overrides))
        for cls in graph.classes:  # off for every class: a class's own draw of it is switched off too
            own = dict(graph.class_overrides(cls))
            for path in overrides:
                if path in own:
                    assert same(own[path], lookup(graph, path)), (name, cls, path)
    carriers = dict(
        validate_graph(switched_off(merged, FEATURES["marine"]["cutout"])).class_overrides("aircraft_carrier")
    )
    assert carriers["post.cutout"].describe() == "False"  # the built-in graph has a carrier cut-out rate
    assert list(feature_table("marine", None, ["crop", "haze"])) == ["crop", "haze"]
    with pytest.raises(FeintError, match="unknown feature fog; known: clouds, haze"):
        feature_table("marine", None, ["fog"])


@pytest.mark.blender
def test_ablation_run_writes_table_and_chart(val, tmp_path, monkeypatch, capsys):
    out = tmp_path / "ablate"
    code, stdout, err = feint(
        monkeypatch, capsys, "ablate", "marine", "--real", val, *TINY, "--features", "clouds,crop", "-o", out
    )
    assert code in (0, None), err
    table = pd.read_csv(out / "ablations.csv")
    assert list(table.feature) == ["full", "clouds", "crop"]
    assert table["drop"].iloc[0] == 0 and table.balanced_accuracy.between(0, 1).all()
    assert np.allclose(table["drop"], table.balanced_accuracy.iloc[0] - table.balanced_accuracy)
    assert (table.render_s_per_image > 0).all() and (table.renders == 4).all()
    assert len(json.loads((out / "ablations.json").read_text())) == 3
    assert (out / "ablations.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "crop" in stdout


@pytest.mark.blender
def test_study_ablations_step_in_table_and_report(tiny_spec, tmp_path):
    from feint.studies.spec import AblationSpec
    from feint.studies.study import StudyRunner

    spec = tiny_spec.model_copy(
        update={
            "steps": ["zero_shot", "ablations"],
            "ablations": AblationSpec(features=["crop"], per_class=4),
        }
    )
    out = tmp_path / "study"
    result = StudyRunner(spec, out, tmp_path / "cache", progress=False).run()
    assert list(result.ablations.feature) == ["full", "crop"]
    assert {"ablation:full", "ablation:crop"} <= set(result.table.step)
    assert (out / "ablations" / "ablations.png").is_file()
    assert "id='ablations'" in (out / "report.html").read_text()
