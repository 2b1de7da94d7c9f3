"""`feint data export --to fiftyone`: FiftyOne samples built from hand-made datasets and a tiny classifier
run (in memory, no database: every field checked), the command's one-line errors, and the whole export into
a FiftyOne database with FiftyOne's evaluation, which runs only where a MongoDB answers.

The hand-made datasets are those of tests/datasets/conftest.py (coco_dir, manifest_dir, render_dir), loaded
from there so that both suites test the same files.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

HERE = Path(__file__).resolve().parent
for _sub in ("datasets", "training"):  # their helper modules, as pytest puts them on the path for their tests
    if str(HERE / _sub) not in sys.path:
        sys.path.insert(0, str(HERE / _sub))

from training_helpers import make_images, make_manifest  # noqa: E402

from feint.datasets import Dataset, Record, load_dataset  # noqa: E402
from feint.errors import FeintError  # noqa: E402
from feint.integrations import fiftyone as fx  # noqa: E402

os.environ.setdefault("FIFTYONE_DO_NOT_TRACK", "true")  # read when fiftyone is first imported


def _module(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_data = _module("fiftyone_test_dataset_fixtures", HERE / "datasets" / "conftest.py")
coco_dir = _data.coco_dir
manifest_dir = _data.manifest_dir
render_dir = _data.render_dir


@pytest.fixture
def fo() -> Any:
    return pytest.importorskip("fiftyone", reason="fiftyone is not installed (optional extra 'fiftyone')")


def by_file(samples: list[Any]) -> dict[str, Any]:
    return {Path(s.filepath).name: s for s in samples}


# --- samples, in memory ------------------------------------------------------------------------------


def test_a_classification_dataset(fo: Any, manifest_dir: Path) -> None:
    dataset = load_dataset(manifest_dir)
    samples = fx.build_samples(dataset)
    assert [s.filepath for s in samples] == [str(r.image) for r in dataset.records]
    for s, r in zip(samples, dataset.records, strict=True):
        assert isinstance(s.ground_truth, fo.Classification)
        assert s.ground_truth.label == r.label
        assert (s.source, s.group) == ("real", r.group)
        assert (s.metadata.width, s.metadata.height) == (16, 12)  # read from the image headers
        assert s.tags == []
        assert "boxes" not in s.field_names and "split" not in s.field_names  # no boxes, no splits
        assert type(s.low_detail) is int and s.low_detail == r.meta["low_detail"]
    assert samples[0].group == samples[1].group == "ship0"


def test_boxes_are_relative_and_masks_are_cut_to_their_box(fo: Any, coco_dir: Path) -> None:
    samples = by_file(fx.build_samples(load_dataset(coco_dir)))
    [box] = samples["im0.jpg"].boxes.detections  # [2, 3, 10.5, 7.25] pixels in a 40 x 30 image
    assert box.label == "cat"
    assert box.bounding_box == pytest.approx([2 / 40, 3 / 30, 10.5 / 40, 7.25 / 30])
    assert box.mask is None
    masked, whole = samples["im1.jpg"].boxes.detections  # 32 x 24; the mask is rows 2:10, columns 3:13
    assert masked.bounding_box == pytest.approx([3 / 32, 2 / 24, 10 / 32, 8 / 24])
    assert masked.mask.shape == (8, 10) and masked.mask.dtype == bool and masked.mask.all()
    assert (whole.label, whole.bounding_box, whole.mask) == ("emu", pytest.approx([0, 0, 1, 1]), None)
    assert samples["im1.jpg"].ground_truth.label == "emu"  # the class of the largest box
    empty = samples["im2.jpg"]  # no objects: an empty list, so a detector's boxes there count as wrong
    assert isinstance(empty.boxes, fo.Detections) and empty.boxes.detections == []
    assert "ground_truth" not in empty.field_names


def test_a_mask_keeps_its_pixels(fo: Any, tmp_path: Path) -> None:
    """An L-shaped mask: the crop is the mask's pixels inside the box, rows and columns the right way."""
    from pycocotools import mask as mask_utils

    full = np.zeros((10, 12), dtype=np.uint8)
    full[2:8, 3:5] = 1
    full[6:8, 3:9] = 1
    rle = mask_utils.encode(np.asfortranarray(full))
    mask = {"size": [10, 12], "counts": rle["counts"].decode()}
    boxes = [[3, 2, 9, 8], [2.6, 1.6, 9.4, 8.4], [3, 2, 3.2, 8]]  # exact, rounding to it, under a pixel wide
    record = Record(
        tmp_path / "l.png", 12, 10, boxes=boxes, box_labels=["a"] * 3, masks=[mask] * 3, label="a"
    )
    [sample] = fx.build_samples(Dataset(["a"], [record]))
    exact, rounded, thin = sample.boxes.detections
    assert exact.mask.tolist() == full[2:8, 3:9].astype(bool).tolist()
    assert exact.mask[0].tolist() == [True, True, False, False, False, False]
    assert rounded.mask.tolist() == exact.mask.tolist()
    assert thin.mask is None  # no pixel to cut: no mask rather than an empty one


def test_renders_keep_their_parameters_as_numbers(fo: Any, render_dir: Path) -> None:
    import pandas as pd

    pd.DataFrame(
        {
            "index": [0, 1, 2],
            "sky.clouds": [0.1, 0.5, 0.9],
            "camera.distance": [10, 20, 30],
            "sea.foam": [1.0, 2.5, float("nan")],
            "ship.hull": ["a", "b", "c"],
            "fog": [True, False, True],
        }
    ).to_parquet(render_dir / "params.parquet")
    dataset = load_dataset(render_dir)
    samples = fx.build_samples(dataset)
    assert [s.source for s in samples] == ["synthetic"] * 3
    assert [s.group for s in samples] == ["syn-7-0", "syn-7-1", "syn-7-2"]
    assert [s.sky_clouds for s in samples] == [0.1, 0.5, 0.9]
    assert [type(s.camera_distance) for s in samples] == [int] * 3
    assert [s.camera_distance for s in samples] == [10, 20, 30]
    assert [s.ship_hull for s in samples] == ["a", "b", "c"]
    assert [s.fog for s in samples] == [True, False, True]
    assert samples[1].sea_foam == 2.5 and "sea_foam" not in samples[2].field_names  # NaN: no value
    assert samples[0].seed == 1000 and samples[2].index == 2  # extra COCO image keys are metadata too
    for s, r in zip(samples, dataset.records, strict=True):
        [box] = s.boxes.detections  # [2, 3, 10, 8] in 24 x 16; the mask is rows 3:11, columns 2:12
        assert box.label == r.label == s.ground_truth.label
        assert box.bounding_box == pytest.approx([2 / 24, 3 / 16, 10 / 24, 8 / 16])
        assert box.mask.shape == (8, 10) and box.mask.all()
    assert fx.metadata_fields(dataset, fx.reserved_fields([]))["sky.clouds"] == "sky_clouds"


def test_splits_are_tags_and_a_field(fo: Any, manifest_dir: Path) -> None:
    dataset = load_dataset(manifest_dir)
    names = ["train", "val", None]
    dataset = dataset.with_records(r.with_(split=names[i % 3]) for i, r in enumerate(dataset.records))
    for i, s in enumerate(fx.build_samples(dataset)):
        split = names[i % 3]
        if split is None:
            assert s.tags == [] and "split" not in s.field_names
        else:
            assert s.tags == [split] and s.split == split


def test_metadata_names_are_valid_and_never_clash(tmp_path: Path) -> None:
    meta = {"split": "x", "filepath": "f", "a.b": 1, "a_b": 2, "9lives": 3, "_hidden": 4, "pred_run": 5}
    dataset = Dataset(["a"], [Record(tmp_path / "x.png", 4, 4, label="a", meta=meta)])
    run = fx.RunPredictions(Path("run"), "classifier", ["a"], "run", probs=np.ones((1, 1)))
    names = fx.metadata_fields(dataset, fx.reserved_fields([run]))
    assert names == {
        "split": "meta_split",
        "filepath": "meta_filepath",
        "a.b": "a_b",
        "a_b": "a_b_2",
        "9lives": "f_9lives",
        "_hidden": "hidden",
        "pred_run": "meta_pred_run",
    }


def test_column_values_are_of_one_type() -> None:
    assert fx.column_values([1, 2.5, None, float("nan")]) == [1.0, 2.5, None, None]
    assert [type(v) for v in fx.column_values([1, 2.5])] == [float, float]
    assert fx.column_values([1, True]) == [1, 1]
    assert fx.column_values([True, None]) == [True, None]
    assert fx.column_values([1, "a"]) == ["1", "a"]
    assert fx.column_values([[1, 2], [3.5]]) == [[1.0, 2.0], [3.5]]
    assert fx.column_values([{"k": 1}, "b"]) == ['{"k": 1}', "b"]


def test_a_detectors_boxes_become_relative_detections_with_scores(fo: Any, coco_dir: Path) -> None:
    from feint.detection.types import Detections

    dataset = load_dataset(coco_dir)
    found = [Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64)) for _ in dataset.records]
    found[0] = Detections(
        np.array([[4.0, 3.0, 24.0, 18.0], [0, 0, 40, 30]]), np.array([0.9, 0.2]), np.array([2, 0])
    )
    run = fx.RunPredictions(Path("runs/det"), "detector", ["cat", "dog", "emu"], "det", found=found)
    samples = fx.build_samples(dataset, [run])
    first, second = samples[0].pred_det.detections  # image 0 is 40 x 30
    assert (first.label, first.confidence) == ("emu", 0.9)
    assert first.bounding_box == pytest.approx([0.1, 0.1, 0.5, 0.5])
    assert (second.label, second.confidence, second.bounding_box) == ("cat", 0.2, pytest.approx([0, 0, 1, 1]))
    assert all(s.pred_det.detections == [] for s in samples[1:])


# --- a tiny classifier run --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as m:
        m.setenv("FEINT_CACHE", str(folder))  # nothing may land in ~/.cache/feint
        yield folder


@pytest.fixture(scope="module")
def classifier_run(cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A frozen-backbone run on coloured ellipses (red, green, blue), two epochs."""
    import torch

    from feint.training.run import TrainConfig, train

    root = tmp_path_factory.mktemp("colours")
    make_images(root / "data" / "train", per_class=6, seed=0)
    make_images(root / "data" / "val", per_class=3, seed=1)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        train(
            TrainConfig(
                data=[str(root / "data")],
                out=str(root / "frozen"),
                split="train",
                val_split="val",
                mode="frozen",
                epochs=2,
                size=64,
                batch=12,
                cache=str(cache),
                progress=False,
            )
        )
    finally:
        torch.set_num_threads(before)
    return root / "frozen"


def test_a_classifiers_predictions_are_those_of_feint_predict(
    fo: Any, classifier_run: Path, cache: Path, tmp_path: Path
) -> None:
    from feint.evaluation import predict

    data = make_manifest(tmp_path / "test", per_class=4)
    dataset = fx.with_sizes(load_dataset(data))
    [loaded] = fx.load_runs([classifier_run], dataset)
    assert (loaded.kind, loaded.key, loaded.classes) == ("classifier", "frozen", ["blue", "green", "red"])
    run = fx.predict_run(loaded, dataset, cache=cache)
    samples = fx.build_samples(dataset, [run])
    table = predict(classifier_run, [r.image for r in dataset.records], top_k=3, cache=cache)
    assert len(table) == len(samples) == 12
    for s, row in zip(samples, table.to_dict("records"), strict=True):
        assert s.filepath == row["file"]
        pred = s.pred_frozen
        assert isinstance(pred, fo.Classification)
        assert pred.label == row["class_1"]
        assert pred.confidence == pytest.approx(row["score_1"], abs=1e-5)
        probs = np.exp(pred.logits) / np.exp(pred.logits).sum()  # the logits give the probabilities back
        for k in (1, 2, 3):
            assert probs[loaded.classes.index(row[f"class_{k}"])] == pytest.approx(
                row[f"score_{k}"], abs=1e-5
            )
        assert s.ground_truth.label in loaded.classes
        assert type(s.flag) is int


def test_a_run_is_told_by_its_config(tmp_path: Path, manifest_dir: Path, coco_dir: Path) -> None:
    def run(name: str, config: Any) -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(config if isinstance(config, str) else json.dumps(config))
        return folder

    assert fx.run_kind(run("det", {"model": "fasterrcnn", "data": "x"})) == "detector"
    assert fx.run_kind(run("cls", {"mode": "frozen", "data": ["x"]})) == "classifier"
    with pytest.raises(FeintError, match="damaged JSON"):
        fx.run_kind(run("bad", "{"))
    with pytest.raises(FeintError, match="neither"):
        fx.run_kind(run("other", {"epochs": 3}))
    with pytest.raises(FeintError, match="no such run folder"):
        fx.run_kind(tmp_path / "missing")
    with pytest.raises(FeintError, match="no boxes"):
        fx.load_runs([tmp_path / "det"], load_dataset(manifest_dir))
    with pytest.raises(FeintError, match="no best.pt"):  # checked against the data, then loaded
        fx.load_runs([tmp_path / "det"], load_dataset(coco_dir))
    assert fx.run_keys([Path("a/frozen"), Path("b/frozen"), Path("c/9-x")]) == ["frozen", "frozen_2", "f_9_x"]


# --- the command's errors ---------------------------------------------------------------------------


def test_export_to_something_else_is_refused(feint_cli: Any, manifest_dir: Path) -> None:
    code, _, err = feint_cli("data", "export", manifest_dir, "--to", "parquet")
    assert code == 2 and err.count("\n") == 1
    assert "--to 'parquet'" in err and "feint data convert" in err


def test_export_without_fiftyone_says_how_to_install_it(
    feint_cli: Any, manifest_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "fiftyone", None)  # `import fiftyone` raises ImportError
    code, _, err = feint_cli("data", "export", manifest_dir, "--to", "fiftyone")
    assert code == 2 and err.count("\n") == 1
    assert "pip install 'feint[fiftyone]'" in err


def test_export_of_missing_or_foreign_runs(
    feint_cli: Any, fo: Any, manifest_dir: Path, tmp_path: Path
) -> None:
    code, _, err = feint_cli("data", "export", manifest_dir, "--to", "fiftyone", "--run", tmp_path / "nope")
    assert code == 2 and "nope: no such run folder" in err
    (tmp_path / "plain").mkdir()
    code, _, err = feint_cli("data", "export", manifest_dir, "--to", "fiftyone", "--run", tmp_path / "plain")
    assert code == 2 and "no config.json" in err and err.count("\n") == 1


def test_export_without_a_database_names_the_setting(
    feint_cli: Any, fo: Any, manifest_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fo.config, "database_uri", "mongodb://127.0.0.1:9/")  # nothing listens there
    monkeypatch.setattr(fx, "DB_TIMEOUT_S", 0.5)
    code, _, err = feint_cli("data", "export", manifest_dir, "--to", "fiftyone")
    assert code == 2 and err.count("\n") == 1
    assert "FiftyOne has no database" in err and "FIFTYONE_DATABASE_URI" in err


def test_a_mongod_that_cannot_run_is_reported(
    fo: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FiftyOne's own mongod, asked for its version: how a missing library shows (one line, no path twice)."""
    from fiftyone.core.service import DatabaseService

    mongod = tmp_path / "mongod"
    mongod.write_text(
        '#!/bin/sh\necho "$0: error while loading shared libraries: libcrypto.so.1.1" >&2\nexit 127\n'
    )
    mongod.chmod(0o755)
    monkeypatch.setattr(fo.config, "database_uri", None)
    monkeypatch.setattr(DatabaseService, "find_mongod", staticmethod(lambda: str(mongod)))
    problem = fx.database_problem()
    assert problem is not None and problem.endswith(
        "does not run on this system: error while loading shared libraries: libcrypto.so.1.1"
    )
    mongod.write_text("#!/bin/sh\necho db version v6.0.27\n")
    assert fx.database_problem() is None


# --- into a FiftyOne database (where one answers) ---------------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """FiftyOne connected to a database: the FIFTYONE_DATABASE_URI server, or its own mongod keeping its
    files in a temporary folder; the tests are skipped, saying why, where neither answers."""
    fo = pytest.importorskip("fiftyone", reason="fiftyone is not installed (optional extra 'fiftyone')")
    with pytest.MonkeyPatch.context() as m:
        if not fo.config.database_uri:
            m.setenv("FIFTYONE_DATABASE_DIR", str(tmp_path_factory.mktemp("fiftyone-db")))
        problem = fx.database_problem(timeout=3.0)
        if problem is not None:
            pytest.skip(f"FiftyOne has no MongoDB here: {problem}")
        try:
            fo.list_datasets()
        except Exception as err:  # noqa: BLE001 - whatever FiftyOne raises, the reason goes in the skip
            pytest.skip(f"FiftyOne has no MongoDB here: {type(err).__name__}: {err}")
        yield fo


@pytest.fixture
def names(database: Any) -> Iterator[list[str]]:
    """Fresh dataset names (a real database may be someone's: never an existing name); deleted after."""
    made = [f"feint-test-{uuid.uuid4().hex[:8]}-{k}" for k in range(2)]
    yield made
    for name in made:
        if database.dataset_exists(name):
            database.delete_dataset(name)


def test_export_into_fiftyone_and_its_evaluation(
    feint_cli: Any, database: Any, names: list[str], classifier_run: Path, tmp_path: Path
) -> None:
    fo, name = database, names[0]
    data = make_manifest(tmp_path / "test", per_class=4)
    lines = (data / "manifest.csv").read_text().splitlines()
    splits = ["split"] + ["train" if i % 3 else "test" for i in range(len(lines) - 1)]
    (data / "manifest.csv").write_text(
        "\n".join(f"{a},{b}" for a, b in zip(lines, splits, strict=True)) + "\n"
    )
    code, out, err = feint_cli(
        "data", "export", data, "--to", "fiftyone", "--name", name, "--run", classifier_run
    )
    assert code == 0, err
    assert f"fiftyone app launch {name}" in out and "evaluation 'eval_frozen'" in out

    ds = fo.load_dataset(name)
    assert ds.persistent and len(ds) == 12 and sorted(ds.distinct("tags")) == ["test", "train"]
    assert ds.count_values("split") == {"train": 8, "test": 4}
    assert ds.count_values("source") == {"real": 12}
    schema = ds.get_field_schema()
    assert isinstance(schema["flag"], fo.IntField)
    assert schema["ground_truth"].document_type is fo.Classification
    assert schema["pred_frozen"].document_type is fo.Classification
    assert ds.list_evaluations() == ["eval_frozen"]
    right = [s.pred_frozen.label == s.ground_truth.label for s in ds]
    assert ds.values("eval_frozen") == right  # FiftyOne's own verdict, per image
    accuracy = ds.load_evaluation_results("eval_frozen").metrics()["accuracy"]
    assert accuracy == pytest.approx(sum(right) / 12)
    assert f"accuracy {accuracy:.3f}" in out
    assert ds.info["feint"]["runs"][0]["run"] == str(classifier_run)
    assert ds.default_classes == ["blue", "green", "red"]

    code, _, err = feint_cli("data", "export", data, "--to", "fiftyone", "--name", name)
    assert code == 2 and "already has a dataset" in err and "--overwrite" in err
    code, out, err = feint_cli(
        "data", "export", data, "--to", "fiftyone", "--name", name, "--overwrite", "--split", "test"
    )
    assert code == 0, err
    assert "replaced the earlier dataset" in out and len(fo.load_dataset(name)) == 4
    assert fo.load_dataset(name).list_evaluations() == []

    foreign = fo.Dataset(names[1], persistent=True)  # somebody's own dataset is never replaced
    code, _, err = feint_cli("data", "export", data, "--to", "fiftyone", "--name", names[1], "--overwrite")
    assert code == 2 and "not made by feint" in err
    assert len(foreign) == 0 and fo.dataset_exists(names[1])


def test_detections_with_masks_are_evaluated_in_fiftyone(
    database: Any, names: list[str], coco_dir: Path
) -> None:
    from feint.detection.types import Detections

    fo, name = database, names[0]
    dataset = load_dataset(coco_dir)
    classes = ["cat", "dog", "emu"]
    found = [
        Detections(r.boxes, np.full(len(r.boxes), 0.9), np.array([classes.index(c) for c in r.box_labels]))
        for r in dataset.records
    ]
    found[2] = Detections(np.array([[1.0, 1.0, 9.0, 9.0]]), np.array([0.5]), np.array([0]))  # nothing there
    found[3] = Detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, np.int64))  # its box missed
    run = fx.RunPredictions(Path("runs/det"), "detector", classes, "det", found=found)
    result = fx.write_fiftyone(dataset, name, [run])
    assert result["runs"][0]["eval_key"] == "eval_det" and 0 < result["runs"][0]["mAP"] <= 1

    ds = fo.load_dataset(name)
    assert ds.values("eval_det_tp") == [1, 2, 0, 0]
    assert ds.values("eval_det_fp") == [0, 0, 1, 0]
    assert ds.values("eval_det_fn") == [0, 0, 0, 1]
    masked = ds.values("boxes.detections")[1][0]
    assert masked.mask.shape == (8, 10) and masked.mask.all()
    wrong = ds.filter_labels("pred_det", fo.ViewField("eval_det") == "fp")  # the App's view of mistakes
    assert len(wrong) == 1 and Path(wrong.first().filepath).name == "im2.jpg"


def test_a_failed_export_leaves_the_earlier_dataset(
    database: Any, names: list[str], coco_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fo, name = database, names[0]
    dataset = load_dataset(coco_dir)
    fx.write_fiftyone(dataset, name, card={"command": "test"})
    run = fx.RunPredictions(Path("runs/cls"), "classifier", ["cat"], "cls", probs=np.ones((1, 1)))

    def fail(*args: Any) -> None:
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(fx, "_evaluate", fail)
    with pytest.raises(RuntimeError, match="evaluation failed"):
        fx.write_fiftyone(dataset.filter(lambda r: r.primary_class == "cat"), name, [run], overwrite=True)
    earlier = fo.load_dataset(name)
    assert len(earlier) == 4 and earlier.info["feint"]["command"] == "test"
    assert not [n for n in fo.list_datasets() if n.startswith(f"{name}-feint-tmp")]
