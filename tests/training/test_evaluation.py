"""`feint eval` and `feint predict`: metrics equal a hand count, the report folder, mapping, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from feint.errors import FeintError
from feint.evaluation import evaluate, predict
from feint.evaluation import metrics as M
from feint.training.run import TrainConfig, train


def test_metrics_equal_a_hand_count() -> None:
    # true class down, predicted across:   a  b  c
    cm = np.array([[5, 1, 0],    # a: 6 images, 5 right
                   [2, 3, 1],    # b: 6 images, 3 right
                   [0, 0, 4]])   # c: 4 images, 4 right
    y_true = [0] * 6 + [1] * 6 + [2] * 4
    y_pred = [0] * 5 + [1] + [0, 0, 1, 1, 1, 2] + [2] * 4
    assert np.array_equal(M.confusion_matrix(y_true, y_pred, 3), cm)
    assert M.accuracy(cm) == pytest.approx(12 / 16)
    assert M.balanced_accuracy(cm) == pytest.approx((5 / 6 + 3 / 6 + 4 / 4) / 3)
    rows = {r["class"]: r for r in M.per_class(cm, ["a", "b", "c"])}
    assert rows["a"]["precision"] == pytest.approx(5 / 7) and rows["a"]["recall"] == pytest.approx(5 / 6)
    assert rows["b"]["precision"] == pytest.approx(3 / 4) and rows["b"]["recall"] == pytest.approx(3 / 6)
    assert rows["c"]["precision"] == pytest.approx(4 / 5) and rows["c"]["recall"] == pytest.approx(1.0)
    p, r = 5 / 7, 5 / 6
    assert rows["a"]["f1"] == pytest.approx(2 * p * r / (p + r))
    assert M.normalise_rows(cm)[1].tolist() == pytest.approx([2 / 6, 3 / 6, 1 / 6])


def test_bootstrap_interval_holds_the_estimate() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, 200)
    y_pred = np.where(rng.random(200) < 0.8, y_true, (y_true + 1) % 3)
    lo, hi = M.bootstrap(y_true, y_pred, 3, {"accuracy": M.accuracy}, n=300)["accuracy"]
    acc = float((y_true == y_pred).mean())
    assert lo < acc < hi and hi - lo < 0.2


@pytest.fixture
def run(tiny_manifest: Path, tmp_path: Path) -> Path:
    out = tmp_path / "run"
    train(TrainConfig(data=[str(tiny_manifest)], out=str(out), mode="frozen", epochs=20, lr=1e-2, size=64,
                      batch=8, val=0.0, progress=False))
    return out


def test_eval_writes_its_report_and_agrees_with_its_predictions(run: Path, tiny_manifest: Path,
                                                                tmp_path: Path) -> None:
    result = evaluate(run, tiny_manifest, out=tmp_path / "eval", n_bootstrap=50)
    for name in ("metrics.json", "predictions.csv", "confusion.png", "mistakes.png"):
        assert (tmp_path / "eval" / name).is_file(), name
    table = pd.read_csv(tmp_path / "eval" / "predictions.csv")
    assert len(table) == 24
    assert result["accuracy"] == pytest.approx(table.correct.mean())
    assert result["accuracy"] > 0.8  # it saw these images in training
    assert set(result["subsets"]) == {"flag=0", "flag=1"}  # the manifest's 0/1 column


def test_eval_maps_model_classes_onto_the_data(run: Path, tiny_manifest: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "map.csv"
    mapping.write_text("red,warm\ngreen,cold\nblue,cold\n")
    renamed = tmp_path / "renamed"
    renamed.mkdir()
    text = (tiny_manifest / "manifest.csv").read_text()
    for old, new in (("red", "warm"), ("green", "cold"), ("blue", "cold")):
        text = text.replace(f",{old},", f",{new},")
    (renamed / "manifest.csv").write_text(text)
    (renamed / "images").symlink_to(tiny_manifest / "images")
    result = evaluate(run, renamed, mapping=mapping, out=tmp_path / "eval", n_bootstrap=10)
    assert sorted(result["confusion_matrix"]["classes"]) == ["cold", "warm"]
    assert result["images"] == 24


def test_eval_errors_name_the_problem(run: Path, tiny_manifest: Path, tmp_path: Path) -> None:
    with pytest.raises(FeintError, match="no-run: no such run folder"):
        evaluate(tmp_path / "no-run", tiny_manifest)
    other = tmp_path / "other"
    (other / "purple").mkdir(parents=True)
    (other / "red").mkdir()
    for name in ("purple", "red"):
        (other / name / "a.png").write_bytes((tiny_manifest / "images" / "red" / "red-0.png").read_bytes())
    with pytest.raises(FeintError, match="'purple' is unknown to the model"):
        evaluate(run, other)
    broken = tmp_path / "broken"
    (broken / "red").mkdir(parents=True)
    good = (tiny_manifest / "images" / "red" / "red-1.png").read_bytes()
    (broken / "red" / "cut.png").write_bytes(good[: len(good) // 2])
    with pytest.raises(FeintError, match="cut.png"):
        evaluate(run, broken)


def test_predict_gives_sorted_top_k(run: Path, tiny_manifest: Path) -> None:
    table = predict(run, [tiny_manifest / "images" / "blue"], top_k=2)
    assert len(table) == 8 and list(table.columns) == ["file", "class_1", "score_1", "class_2", "score_2"]
    assert (table.score_1 >= table.score_2).all() and (table.score_1 + table.score_2 <= 1.0 + 1e-6).all()
    assert (table.class_1 == "blue").mean() > 0.8
    with pytest.raises(FeintError, match="no such image"):
        predict(run, [tiny_manifest / "nothing-here"])
