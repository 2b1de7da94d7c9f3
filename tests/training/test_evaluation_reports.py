"""Evaluation: metrics against a hand count, `evaluate` reports that agree with their own predictions and
with training's validation, class mapping (`feint eval --map`), clear errors, and `predict`'s top-k table."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch
from training_helpers import COLOURS, feint, make_manifest  # noqa:E402

from feint.errors import FeintError  # noqa: E402
from feint.evaluation import evaluate, load_run, predict  # noqa: E402
from feint.evaluation import metrics as M  # noqa: E402
from feint.evaluation.evaluate import class_mapping  # noqa: E402
from feint.training.run import TrainConfig, train  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"
REPORT = ("metrics.json", "predictions.csv", "confusion.png", "mistakes.png")


# --- metrics against a hand count -------------------------------------------------------------------

# Rows: true class, columns: predicted. Class d has no test image but is predicted once.
CLASSES = ["a", "b", "c", "d"]
CM = np.array([[5, 2, 1, 1], [1, 3, 0, 0], [0, 2, 6, 0], [0, 0, 0, 0]])


def labels_of(cm: np.ndarray) -> tuple[list[int], list[int]]:
    pairs = [(t, p) for t in range(len(cm)) for p in range(len(cm)) for _ in range(cm[t, p])]
    return [t for t, _ in pairs], [p for _, p in pairs]


def test_metrics_equal_a_hand_count() -> None:
    y_true, y_pred = labels_of(CM)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y_true))
    cm = M.confusion_matrix(np.array(y_true)[order], np.array(y_pred)[order], 4)
    assert cm.tolist() == CM.tolist()

    F = Fraction
    assert M.accuracy(cm) == pytest.approx(float(F(14, 21)))
    # Recall a 5/9, b 3/4, c 6/8; d has no images and does not count.
    assert M.balanced_accuracy(cm) == pytest.approx(float((F(5, 9) + F(3, 4) + F(6, 8)) / 3))
    hand = {  # precision tp/predicted, recall tp/support, F1 2tp/(2tp+fp+fn)
        "a": (F(5, 6), F(5, 9), F(10, 15), 9, 6),
        "b": (F(3, 7), F(3, 4), F(6, 11), 4, 7),
        "c": (F(6, 7), F(6, 8), F(12, 15), 8, 7),
        "d": (F(0), F(0), F(0), 0, 1),
    }
    rows = M.per_class(cm, CLASSES)
    assert [r["class"] for r in rows] == CLASSES
    for r in rows:
        p, rec, f1, support, predicted = hand[r["class"]]
        assert (r["precision"], r["recall"], r["f1"]) == pytest.approx((float(p), float(rec), float(f1)))
        assert (r["support"], r["predicted"]) == (support, predicted)

    s = M.summary(cm, CLASSES)
    assert s["images"] == 21
    # Macro F1 over the classes with images (a, b, c).
    assert s["macro_f1"] == pytest.approx(float((F(10, 15) + F(6, 11) + F(12, 15)) / 3))
    norm = M.normalise_rows(cm)
    assert norm[0].tolist() == pytest.approx([5 / 9, 2 / 9, 1 / 9, 1 / 9])
    assert norm[3].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_bootstrap_resamples_whole_groups() -> None:
    y_true, y_pred = map(np.array, labels_of(CM[:3, :3]))
    acc = M.accuracy(M.confusion_matrix(y_true, y_pred, 3))
    fns = {"accuracy": M.accuracy}
    lo, hi = M.bootstrap(y_true, y_pred, 3, fns, n=300, seed=1)["accuracy"]
    assert lo < acc < hi
    # One group holding every image: every resample is the whole test set, the interval is a point.
    lo, hi = M.bootstrap(y_true, y_pred, 3, fns, groups=["ship"] * len(y_true), n=300)["accuracy"]
    assert lo == hi == pytest.approx(acc)
    assert M.bootstrap(y_true, y_true, 3, fns, n=50)["accuracy"] == (1.0, 1.0)


# --- a tiny trained run -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as m:
        m.setenv("FEINT_CACHE", str(folder))  # nothing may land in ~/.cache/feint
        yield folder


def _train(colours: Path, out: Path, cache: Path, **kw: Any) -> Path:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(
            TrainConfig(
                data=[str(colours)],
                out=str(out),
                split="train",
                val_split="val",
                size=64,
                batch=12,
                cache=str(cache),
                progress=False,
                **kw,
            )
        )
    finally:
        torch.set_num_threads(before)
    return out


@pytest.fixture(scope="module")
def frozen_run(colours: Path, cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(colours, tmp_path_factory.mktemp("runs") / "frozen", cache, mode="frozen", epochs=3)


@pytest.fixture(scope="module")
def test_set(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another draw of the colours, as a manifest with groups (4 per class) and a 0/1 flag column."""
    return make_manifest(tmp_path_factory.mktemp("test") / "manifest", per_class=8)


def test_metrics_and_figures_agree_with_the_predictions_table(
    frozen_run: Path, test_set: Path, cache: Path, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = evaluate(frozen_run, test_set, out=out, n_bootstrap=200, cache=cache)
    for name in REPORT:
        assert (out / name).is_file(), name
    for name in ("confusion.png", "mistakes.png"):
        assert (out / name).read_bytes()[:8] == PNG
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["accuracy"] == result["accuracy"] and saved["images"] == 24

    table = pd.read_csv(out / "predictions.csv")
    assert len(table) == 24
    assert (table["correct"] == (table["class"] == table["predicted"])).all()
    assert saved["accuracy"] == pytest.approx(table["correct"].mean())
    classes = saved["confusion_matrix"]["classes"]
    counts = pd.crosstab(table["class"], table["predicted"])
    counts = counts.reindex(index=classes, columns=classes, fill_value=0)
    assert saved["confusion_matrix"]["counts"] == counts.to_numpy().tolist()
    recalls = table.groupby("class")["correct"].mean()
    assert saved["balanced_accuracy"] == pytest.approx(recalls.mean())
    for row in saved["per_class"]:
        mine = table[table["class"] == row["class"]]
        said = table[table["predicted"] == row["class"]]
        assert row["support"] == len(mine) and row["predicted"] == len(said)
        assert row["recall"] == pytest.approx(mine["correct"].mean())
        assert row["precision"] == pytest.approx(said["correct"].mean() if len(said) else 0.0)
    for value in (0, 1):
        rows = table[table["flag"] == value]
        sub = saved["subsets"][f"flag={value}"]
        assert sub["images"] == len(rows) and sub["accuracy"] == pytest.approx(rows["correct"].mean())
    lo, hi = saved["bootstrap_95"]["accuracy"]
    assert lo <= saved["accuracy"] <= hi
    assert saved["bootstrap"]["groups"] == table["group"].nunique() == 12

    # The predicted column is the argmax of the run's probabilities, its score their maximum.
    probs = load_run(frozen_run).predict_proba([Path(f) for f in table["file"]], cache=cache)
    assert table["predicted"].tolist() == [classes[k] for k in probs.argmax(1)]
    np.testing.assert_allclose(table["score"], probs.max(1), atol=1e-5)


@pytest.mark.parametrize("mode", ["frozen", "finetune"])
def test_evaluating_the_validation_images_gives_the_validation_score_of_training(
    mode: str,
    colours: Path,
    cache: Path,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    """The evaluation path (cache, preprocessing, best.pt) scores as the training loop's validation did."""
    if mode == "frozen":
        run = request.getfixturevalue("frozen_run")
    else:
        run = _train(
            colours, tmp_path_factory.mktemp("runs") / "finetune", cache, mode="finetune", epochs=1, lr=1e-3
        )
    record = json.loads((run / "run.json").read_text())
    result = evaluate(run, colours, split="val", out=tmp_path / "val", n_bootstrap=10, cache=cache)
    assert result["images"] == record["data"]["val"] == 12
    assert result["accuracy"] == pytest.approx(record["best"]["val_accuracy"], abs=1e-6)
    assert result["balanced_accuracy"] == pytest.approx(record["best"]["val_balanced_accuracy"], abs=1e-6)
    assert result["mode"] == mode


# --- class mapping ----------------------------------------------------------------------------------


def test_map_adds_probabilities_onto_the_data_names(
    frozen_run: Path,
    colours: Path,
    cache: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Test data named differently: blue photos are 'cool', red ones 'warm'; there are no green ones.
    test = tmp_path / "warm-cool"
    for model_class, name in (("blue", "cool"), ("red", "warm")):
        shutil.copytree(colours / "val" / model_class, test / name)
    mapping = tmp_path / "map.csv"
    mapping.write_text("from,to\nblue,cool\nred,warm\ngreen,\n")
    out = tmp_path / "report"
    code, text, err = feint(
        monkeypatch,
        capsys,
        "eval",
        frozen_run,
        test,
        "--map",
        mapping,
        "-o",
        out,
        "--bootstrap",
        "20",
        "--cache",
        cache,
        "-q",
    )
    assert code == 0, err
    assert "8 images: accuracy" in text and "report: " in text
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["confusion_matrix"]["classes"] == ["cool", "warm"]
    assert saved["model_classes"] == ["blue", "green", "red"] and saved["map"] == str(mapping)

    table = pd.read_csv(out / "predictions.csv")
    assert set(table["class"]) == {"cool", "warm"} and set(table["predicted"]) <= {"cool", "warm"}
    probs = load_run(frozen_run).predict_proba([Path(f) for f in table["file"]], cache=cache)
    mapped = probs[:, [0, 2]]  # blue -> cool, red -> warm; green is never predicted
    assert table["predicted"].tolist() == [["cool", "warm"][k] for k in mapped.argmax(1)]
    np.testing.assert_allclose(table["score"], mapped.max(1), atol=1e-5)
    assert saved["accuracy"] == pytest.approx(table["correct"].mean())


def test_classes_mapped_together_add_their_probabilities() -> None:
    targets, matrix = class_mapping(["blue", "green", "red"], [(1, "blue", "cool"), (2, "green", "cool")])
    assert targets == ["cool", "red"]
    probs = np.array([[0.3, 0.3, 0.4]]) @ matrix
    assert probs[0].tolist() == pytest.approx([0.6, 0.4])
    with pytest.raises(FeintError, match=r"map.csv: line 3: 'purple' is not a class of the model"):
        class_mapping(["blue", "green", "red"], [(3, "purple", "cool")], "map.csv")


# --- errors -----------------------------------------------------------------------------------------


def test_missing_or_foreign_run_folder(test_set: Path, tmp_path: Path) -> None:
    with pytest.raises(FeintError, match=f"{tmp_path / 'nope'}: no such run folder"):
        evaluate(tmp_path / "nope", test_set)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FeintError, match=r"empty: not a `feint train` run \(no config.json\)"):
        evaluate(tmp_path / "empty", test_set)


def test_class_unknown_to_the_model(frozen_run: Path, colours: Path, cache: Path, tmp_path: Path) -> None:
    test = tmp_path / "more"
    shutil.copytree(colours / "val", test)
    shutil.copytree(colours / "val" / "red", test / "yellow")
    with pytest.raises(FeintError, match=r"class 'yellow' is unknown to the model .*--map"):
        evaluate(frozen_run, test, out=tmp_path / "report", cache=cache)
    assert not (tmp_path / "report").exists()


def test_truncated_jpeg_is_named(frozen_run: Path, cache: Path, tmp_path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(3)
    test = tmp_path / "jpegs"
    for name, colour in COLOURS.items():
        (test / name).mkdir(parents=True)
        for i in range(2):
            pixels = np.clip(rng.normal(colour, 30, (48, 48, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(test / name / f"{i}.jpg", quality=90)
    broken = test / "green" / "1.jpg"
    whole = broken.read_bytes()
    broken.write_bytes(whole[: len(whole) // 2])  # the header survives: the size is readable, the pixels not
    with pytest.raises(FeintError, match=rf"{broken}: corrupt or unreadable image"):
        evaluate(frozen_run, test, out=tmp_path / "report", cache=cache)


# --- predict ----------------------------------------------------------------------------------------


def test_predict_gives_sorted_top_k(
    frozen_run: Path,
    test_set: Path,
    cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = test_set / "images"
    table = predict(frozen_run, [folder], top_k=2, cache=cache)
    assert list(table.columns) == ["file", "class_1", "score_1", "class_2", "score_2"]
    assert len(table) == 24
    assert (table["score_1"] >= table["score_2"]).all()
    assert ((table["score_1"] + table["score_2"]) <= 1 + 1e-4).all()
    assert (table["class_1"] != table["class_2"]).all()
    probs = load_run(frozen_run).predict_proba([Path(f) for f in table["file"]], cache=cache)
    assert table["class_1"].tolist() == [["blue", "green", "red"][k] for k in probs.argmax(1)]

    every = predict(frozen_run, [folder / "red" / "red-0.png", folder / "blue"], top_k=10, cache=cache)
    assert len(every) == 1 + 8
    scores = every[["score_1", "score_2", "score_3"]].to_numpy()
    assert (np.diff(scores, axis=1) <= 0).all()
    np.testing.assert_allclose(scores.sum(1), 1.0, atol=1e-4)
    assert "class_4" not in every.columns

    with pytest.raises(FeintError, match="nowhere: no such image or folder"):
        predict(frozen_run, [test_set / "nowhere"], cache=cache)

    code, text, err = feint(
        monkeypatch, capsys, "predict", frozen_run, folder / "green", "-k", "1", "--cache", cache
    )
    assert code == 0, err
    printed = pd.read_csv(io.StringIO(text))
    assert list(printed.columns) == ["file", "class_1", "score_1"] and len(printed) == 8
    assert printed["class_1"].tolist() == table.set_index("file").loc[printed["file"], "class_1"].tolist()


def test_eval_scores_the_test_split_when_no_split_is_given(frozen_run, colours, cache, tmp_path, capsys):
    """Scoring every split by default would count the training images; the test split is the default."""
    from feint.datasets import load_dataset
    from feint.datasets.output import write_dataset
    from feint.datasets.split import split_dataset

    data = load_dataset(colours)
    unsplit = data.with_records([r.__class__(**{**vars(r), "split": None}) for r in data.records])
    split = split_dataset(unsplit, [0.5, 0.5], 0, "group", "class", ["train", "test"])
    write_dataset(split, tmp_path / "split", "manifest", "test", [colours])
    result = evaluate(frozen_run, tmp_path / "split", out=tmp_path / "report", n_bootstrap=10, cache=cache)
    assert result["split"] == "test"
    assert result["images"] == sum(r.split == "test" for r in split.records) < len(split)
    assert "evaluating on the 'test' split" in capsys.readouterr().err
