"""`feint export` and exported models in `feint predict` / `feint detect predict`: tiny classifier runs
(fine-tuned and frozen) and a tiny detector run exported to ONNX and TorchScript give PyTorch's numbers
(generated images and real photos), carry their preprocessing, refuse bad inputs in one line, never
overwrite an output unasked, and reach for no network."""

from __future__ import annotations

import json
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import torch

sys.path[:0] = [str(Path(__file__).parent / "training"), str(Path(__file__).parent / "detection")]
from detection_helpers import make_coco  # noqa: E402 - the detection tests' helpers, on the path above
from training_helpers import make_images  # noqa: E402

import feint  # noqa: E402
from feint.deploy import export_run, open_exported  # noqa: E402
from feint.detection import DetectConfig, train_detector  # noqa: E402
from feint.detection.runs import load_detector  # noqa: E402
from feint.errors import FeintError  # noqa: E402
from feint.evaluation.runs import load_run  # noqa: E402
from feint.training.cache import image_rows  # noqa: E402
from feint.training.run import TrainConfig, train  # noqa: E402

PROBABILITY_ATOL = 1e-4  # exported vs PyTorch class probabilities (measured: about 2e-6)
BOX_ATOL = 1e-3  # exported vs PyTorch box corners, in pixels (measured: about 2e-5), and scores


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Generated data, a private cache and three runs: a fine-tuned classifier (64 px), a frozen one at
    224 px (the size real use exports) and a Faster R-CNN detector (96 px)."""
    root = tmp_path_factory.mktemp("export")
    paths = {"root": root, "cache": root / "cache", "colours": root / "colours", "shapes": root / "shapes"}
    make_images(paths["colours"] / "train", per_class=12, seed=0)
    make_images(paths["colours"] / "val", per_class=4, seed=1)
    make_coco(paths["shapes"], n=12)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # two cores shared with other jobs: see tests/training/conftest.py
    common = dict(
        data=[str(paths["colours"])],
        split="train",
        val_split="val",
        batch=12,
        cache=str(paths["cache"]),
        progress=False,
    )
    with pytest.MonkeyPatch.context() as m:
        m.setenv("FEINT_CACHE", str(paths["cache"]))
        try:
            for mode, size, epochs in (("finetune", 64, 2), ("frozen", 224, 3)):
                paths[mode] = root / mode
                train(TrainConfig(**common, out=str(paths[mode]), mode=mode, size=size, epochs=epochs))
            # Detectors with either pyramid: from stride 16 (one epoch: later ones of so small a detector
            # score every box under 0.05) and from stride 8, the default (two epochs at a higher rate
            # before it scores some boxes over 0.05).
            for name, stride, epochs, lr in (("detector", 16, 1, None), ("detector8", 8, 2, 0.02)):
                paths[name] = root / name
                train_detector(
                    DetectConfig(
                        data=str(paths["shapes"]),
                        out=str(paths[name]),
                        size=96,
                        batch=4,
                        epochs=epochs,
                        lr=lr,
                        finest_stride=stride,
                        progress=False,
                    )
                )
            for name in ("finetune", "frozen", "detector", "detector8"):
                export_run(paths[name], "onnx")  # into the run: RUN/model.onnx
            export_run(paths["finetune"], "torchscript")
            export_run(paths["detector"], "torchscript")
            yield paths
        finally:
            torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def private_cache(workspace: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FEINT_CACHE", str(workspace["cache"]))


def generated(workspace: dict[str, Path]) -> list[Path]:
    return sorted((workspace["colours"] / "val").rglob("*.png"))


def photos(real_data: Path, per_class: int = 2) -> list[Path]:
    """A fixed handful of ships-dev photos: the first `per_class` of every class in its manifest."""
    table = pd.read_csv(real_data / "ships-dev" / "manifest.csv")
    chosen = table.groupby("class", sort=True).head(per_class)["file"]
    return [real_data / "ships-dev" / f for f in chosen]


def one_error_line(result: tuple[int, str, str]) -> str:
    code, out, err = result
    assert code == 2, (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("feint: error: "), err
    return lines[0]


# --- classifiers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["finetune", "frozen"])
def test_onnx_classifier_gives_pytorchs_probabilities_on_generated_images(
    workspace: dict[str, Path], mode: str
) -> None:
    images = generated(workspace)
    expected = load_run(workspace[mode]).predict_proba(images)
    got = open_exported(workspace[mode] / "model.onnx", "classifier").predict_proba(images, batch=5)
    assert got.shape == expected.shape == (12, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=PROBABILITY_ATOL)
    assert np.allclose(got.sum(1), 1.0, atol=1e-5)  # probabilities, not logits


@pytest.mark.realdata
@pytest.mark.parametrize("mode", ["finetune", "frozen"])
def test_onnx_classifier_gives_pytorchs_probabilities_on_real_photos(
    workspace: dict[str, Path], real_data: Path, mode: str
) -> None:
    images = photos(real_data)
    expected = load_run(workspace[mode]).predict_proba(images)
    got = open_exported(workspace[mode] / "model.onnx").predict_proba(images)
    assert got.shape == expected.shape == (20, 3)
    np.testing.assert_allclose(got, expected, rtol=0, atol=PROBABILITY_ATOL)


def test_onnx_metadata_records_the_preprocessing_and_the_run(workspace: dict[str, Path]) -> None:
    import onnx
    import onnxruntime as ort

    model = onnx.load(workspace["frozen"] / "model.onnx")
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["task"] == "classifier" and meta["resize"] == "stretch"
    assert json.loads(meta["input_size"]) == 224
    assert json.loads(meta["mean"]) == [0.5, 0.5, 0.5] and json.loads(meta["std"]) == [0.5, 0.5, 0.5]
    assert (
        meta["channel_order"] == "RGB" and meta["input_dtype"] == "uint8" and meta["input_layout"] == "NCHW"
    )
    assert json.loads(meta["classes"]) == ["blue", "green", "red"]
    assert meta["run"] == str(workspace["frozen"].resolve()) and meta["checkpoint"] == "best.pt"
    assert meta["feint_version"] == feint.__version__ and meta["mode"] == "frozen"
    assert meta["backbone"] == "efficientnet_lite0"
    # The graph as described: uint8 images of any batch size in, probabilities out.
    session = ort.InferenceSession(
        str(workspace["frozen"] / "model.onnx"), providers=["CPUExecutionProvider"]
    )
    (given,) = session.get_inputs()
    assert (given.name, given.type, given.shape[1:]) == ("images", "tensor(uint8)", [3, 224, 224])
    assert isinstance(given.shape[0], str)  # a named dynamic batch
    for n in (1, 4):
        (probs,) = session.run(None, {"images": np.zeros((n, 3, 224, 224), np.uint8)})
        assert probs.shape == (n, 3)


def test_torchscript_classifier_gives_pytorchs_probabilities_and_carries_the_record(
    workspace: dict[str, Path],
) -> None:
    images = generated(workspace)
    files = {"feint.json": ""}
    model = torch.jit.load(str(workspace["finetune"] / "model.torchscript"), _extra_files=files)
    record = json.loads(files["feint.json"])
    assert record["task"] == "classifier" and record["input_size"] == 64 and record["resize"] == "stretch"
    assert record["classes"] == ["blue", "green", "red"] and record["mean"] == [0.5, 0.5, 0.5]
    pixels = np.asarray(image_rows(images, record["input_size"]))  # the stretch rule, as feint decodes
    with torch.no_grad():
        got = model(torch.from_numpy(pixels).permute(0, 3, 1, 2).contiguous()).numpy()
    expected = load_run(workspace["finetune"]).predict_proba(images)
    np.testing.assert_allclose(got, expected, rtol=0, atol=PROBABILITY_ATOL)


def top1(csv: str) -> list[tuple[str, str, float]]:
    """(file, class_1, margin of class_1 over class_2) per row of `feint predict`'s CSV."""
    table = pd.read_csv(pd.io.common.StringIO(csv))
    return [(r.file, r.class_1, r.score_1 - r.score_2) for r in table.itertuples()]


def same_top1(run_csv: str, onnx_csv: str) -> int:
    """Rows where both give the same class; only rows whose first two classes lie further apart than the
    tolerance are compared (a tie may fall either way). Returns how many rows were compared."""
    a, b = top1(run_csv), top1(onnx_csv)
    assert [r[0] for r in a] == [r[0] for r in b]
    compared = [(x, y) for x, y in zip(a, b, strict=True) if x[2] > 2 * PROBABILITY_ATOL]
    assert [x[1] for x, _ in compared] == [y[1] for _, y in compared]
    return len(compared)


def test_feint_predict_with_the_onnx_file_gives_the_runs_top_classes(
    workspace: dict[str, Path], feint_cli: Any, tmp_path: Path
) -> None:
    run = workspace["finetune"]
    code, run_csv, err = feint_cli("predict", run, workspace["colours"] / "val", "-k", "2")
    assert code == 0, err
    code, onnx_csv, err = feint_cli("predict", run / "model.onnx", workspace["colours"] / "val", "-k", "2")
    assert code == 0, err
    assert same_top1(run_csv, onnx_csv) >= 10  # of 12
    # -o writes the CSV as for a run
    out = tmp_path / "p.csv"
    code, said, err = feint_cli("predict", run / "model.onnx", workspace["colours"] / "val", "-o", out)
    assert code == 0 and said.strip() == f"{out}: 12 images", err
    assert list(pd.read_csv(out).columns) == [
        "file",
        "class_1",
        "score_1",
        "class_2",
        "score_2",
        "class_3",
        "score_3",
    ]


@pytest.mark.realdata
def test_feint_predict_with_the_onnx_file_gives_the_runs_top_classes_on_real_photos(
    workspace: dict[str, Path], real_data: Path, feint_cli: Any
) -> None:
    run = workspace["frozen"]
    images = photos(real_data)
    code, run_csv, err = feint_cli("predict", run, *images, "-k", "2")
    assert code == 0, err
    code, onnx_csv, err = feint_cli("predict", run / "model.onnx", *images, "-k", "2")
    assert code == 0, err
    assert same_top1(run_csv, onnx_csv) >= 18  # of 20


def test_feint_eval_scores_the_onnx_file_as_the_run(workspace: dict[str, Path], feint_cli: Any) -> None:
    run, data = workspace["frozen"], workspace["colours"]
    code, _, err = feint_cli("eval", run, data, "--split", "val", "-q")
    assert code == 0, err
    code, said, err = feint_cli("eval", run / "model.onnx", data, "--split", "val", "-q")
    assert code == 0, err
    report = run / "model-eval-colours-val"  # beside the exported file, not inside a folder it is not
    assert f"report: {report} " in said
    from_run = json.loads((run / "eval-colours-val" / "metrics.json").read_text())
    from_onnx = json.loads((report / "metrics.json").read_text())
    assert from_onnx["images"] == from_run["images"] == 12
    assert abs(from_onnx["accuracy"] - from_run["accuracy"]) <= 1 / 12  # at most one near-tie flips
    assert from_onnx["exported"] is True and from_onnx["mode"] == "frozen" and from_onnx["size"] == 224


# --- the detector --------------------------------------------------------------------------------------


def assert_same_detections(expected: list[Any], got: list[Any]) -> None:
    """Per image, the same number of boxes, each matched to one of the same class with corners and score
    within BOX_ATOL (the order of equal scores may differ)."""
    assert len(expected) == len(got)
    for e, g in zip(expected, got, strict=True):
        assert len(e.boxes) == len(g.boxes)
        for box, label, score in zip(e.boxes, e.labels, e.scores, strict=True):
            same = np.flatnonzero(g.labels == label)
            assert len(same), (box, label)
            gap = np.abs(g.boxes[same] - box).max(axis=1)
            best = same[int(np.argmin(gap))]
            assert gap.min() <= BOX_ATOL and abs(g.scores[best] - score) <= BOX_ATOL, (box, g.boxes[best])


def test_onnx_detector_gives_pytorchs_boxes_on_generated_images(
    workspace: dict[str, Path], tmp_path: Path
) -> None:
    from PIL import Image

    # First a wide image (96x67 at 96 px, padded to 96x96): torchvision would guess the RoI pooling's
    # scales from it (1/8 instead of 1/16) and keep them for the others; the detector pins them.
    wide = tmp_path / "wide.png"
    with Image.open(workspace["shapes"] / "images" / "shape-000.png") as img:
        img.resize((288, 201)).save(wide)
    images = [wide, *sorted((workspace["shapes"] / "images").iterdir())[:6]]
    expected = load_detector(workspace["detector"]).detect(images, conf=0.05, batch=1)
    exported = open_exported(workspace["detector"] / "model.onnx", "detector")
    got = exported.detect(images, conf=0.05)
    assert sum(len(d.boxes) for d in expected) > 0  # the comparison is not of nothing
    assert_same_detections(expected, got)
    for path, found in zip(images, got, strict=True):  # boxes in the image's own pixels, as a run's
        with Image.open(path) as img:
            assert found.boxes.min() >= 0 and found.boxes[:, 2].max() <= img.width + 0.01
            assert found.boxes[:, 3].max() <= img.height + 0.01
    assert got[0].boxes[:, 2].max() > 96  # the wide image's boxes reach beyond the loader's 96 px


def test_onnx_detector_with_a_stride_8_level_gives_pytorchs_boxes(workspace: dict[str, Path]) -> None:
    images = sorted((workspace["shapes"] / "images").iterdir())[:6]
    expected = load_detector(workspace["detector8"]).detect(images, conf=0.05, batch=1)
    got = open_exported(workspace["detector8"] / "model.onnx", "detector").detect(images, conf=0.05)
    assert sum(len(d.boxes) for d in expected) > 0
    assert_same_detections(expected, got)


@pytest.mark.realdata
def test_onnx_detector_gives_pytorchs_boxes_on_real_photos(
    workspace: dict[str, Path], real_data: Path
) -> None:
    images = photos(real_data, per_class=1)
    expected = load_detector(workspace["detector"]).detect(images, conf=0.05, batch=1)
    got = open_exported(workspace["detector"] / "model.onnx").detect(images, conf=0.05)
    assert sum(len(d.boxes) for d in expected) > 0
    assert_same_detections(expected, got)


def test_torchscript_detector_gives_pytorchs_boxes(workspace: dict[str, Path]) -> None:
    from feint.detection.data import load_image

    files = {"feint.json": ""}
    model = torch.jit.load(str(workspace["detector"] / "model.torchscript"), _extra_files=files)
    record = json.loads(files["feint.json"])
    assert record["task"] == "detector" and record["resize"] == "longer_side" and record["input_size"] == 96
    assert record["outputs"] == ["boxes", "labels", "scores"]
    reference = load_detector(workspace["detector"]).model.eval()
    for path in sorted((workspace["shapes"] / "images").iterdir())[:3]:
        pixels, _ = load_image(path, record["input_size"])
        image = torch.from_numpy(pixels).permute(2, 0, 1).contiguous()
        with torch.no_grad():
            boxes, labels, scores = model(image)
            want = reference([image.float() / 255])[0]
        assert torch.allclose(boxes, want["boxes"], atol=BOX_ATOL)
        assert torch.equal(labels, want["labels"] - 1)  # 0-based class indices
        assert torch.allclose(scores, want["scores"], atol=BOX_ATOL)


def test_feint_detect_predict_with_the_onnx_file_writes_the_runs_outputs(
    workspace: dict[str, Path], feint_cli: Any, tmp_path: Path
) -> None:
    images = sorted((workspace["shapes"] / "images").iterdir())[:4]
    run, model = workspace["detector"], workspace["detector"] / "model.onnx"
    common = ("--conf", "0.05", "--batch", "1")
    code, _, err = feint_cli("detect", "predict", run, *images, "-o", tmp_path / "run", *common)
    assert code == 0, err
    code, said, err = feint_cli("detect", "predict", model, *images, "-o", tmp_path / "onnx", *common)
    assert code == 0, err
    assert said.startswith(f"{tmp_path / 'onnx'}: 4 images")
    for name in ("grid.png", "images.json", *(f"images/{p.stem}.jpg" for p in images)):
        assert (tmp_path / "onnx" / name).is_file(), name
    a = json.loads((tmp_path / "run" / "detections.json").read_text())
    b = json.loads((tmp_path / "onnx" / "detections.json").read_text())
    assert len(a) == len(b) > 0
    key = lambda r: (r["image_id"], r["category_id"], *r["bbox"])  # noqa: E731
    for x, y in zip(sorted(a, key=key), sorted(b, key=key), strict=True):
        assert (x["image_id"], x["category_id"]) == (y["image_id"], y["category_id"])
        assert np.allclose(x["bbox"], y["bbox"], atol=BOX_ATOL * 10) and abs(x["score"] - y["score"]) < 2e-5
    # The default output lies beside the model file, named after it.
    code, said, err = feint_cli("detect", "predict", model, images[0], *common)
    assert code == 0, err
    assert (run / "model-detect-shape-000.png" / "detections.json").is_file()


# --- errors and the output policy ---------------------------------------------------------------------


def test_bad_inputs_are_one_line_and_exit_code_2(
    workspace: dict[str, Path], feint_cli: Any, tmp_path: Path
) -> None:
    run = workspace["finetune"]
    line = one_error_line(feint_cli("export", tmp_path / "nothing"))
    assert "nothing: no such run folder" in line
    plain = tmp_path / "plain"
    plain.mkdir()
    line = one_error_line(feint_cli("export", plain))
    assert "plain: not a run (no config.json)" in line
    line = one_error_line(feint_cli("export", run, "--format", "tflite"))
    assert "--format" in line and "'tflite' is not one of 'onnx', 'torchscript'" in line
    with pytest.raises(FeintError, match="--format 'tflite': expected one of onnx, torchscript"):
        export_run(run, "tflite")  # the library checks it too
    line = one_error_line(feint_cli("export", run, "-o", tmp_path / "m.pt"))
    assert "m.pt: an ONNX model is named *.onnx" in line
    yolo = tmp_path / "yolo"
    yolo.mkdir()
    (yolo / "config.json").write_text(json.dumps({"model": "yolo11n.yaml", "size": 320}))
    line = one_error_line(feint_cli("export", yolo))
    assert "a YOLO run (yolo11n.yaml)" in line and "yolo export" in line
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "config.json").write_text("{")
    assert "damaged JSON" in one_error_line(feint_cli("export", damaged))

    images = workspace["colours"] / "val"
    line = one_error_line(feint_cli("detect", "predict", run / "model.onnx", images))
    assert "an exported classifier, not a detector; run it with `feint predict`" in line
    line = one_error_line(feint_cli("predict", workspace["detector"] / "model.onnx", images))
    assert "an exported detector, not a classifier" in line
    line = one_error_line(feint_cli("predict", run / "model.torchscript", images))
    assert "a file; give a run folder" in line and "torch.jit.load" in line
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model")
    assert "garbage.onnx: not a readable ONNX model" in one_error_line(feint_cli("predict", garbage, images))
    foreign = tmp_path / "foreign.onnx"
    import onnx
    from onnx import TensorProto, helper

    pixels = helper.make_tensor_value_info("images", TensorProto.UINT8, [1, 3, 8, 8])
    same = helper.make_tensor_value_info("out", TensorProto.UINT8, [1, 3, 8, 8])
    graph = helper.make_graph([helper.make_node("Identity", ["images"], ["out"])], "g", [pixels], [same])
    onnx.save(helper.make_model(graph), foreign)  # a valid model, without feint's metadata
    line = one_error_line(feint_cli("predict", foreign, images))
    assert "foreign.onnx: no feint metadata" in line and "feint export" in line


def test_an_existing_output_is_replaced_only_with_overwrite(
    workspace: dict[str, Path], feint_cli: Any, tmp_path: Path
) -> None:
    run = workspace["finetune"]
    taken = tmp_path / "taken.onnx"
    taken.write_bytes(b"mine")
    line = one_error_line(feint_cli("export", run, "-o", taken))
    assert "taken.onnx: file exists; pass --overwrite" in line and taken.read_bytes() == b"mine"
    # the default output in the run folder too; and never the run's own files
    before = (run / "model.onnx").read_bytes()
    assert "file exists" in one_error_line(feint_cli("export", run))
    assert (run / "model.onnx").read_bytes() == before
    line = one_error_line(feint_cli("export", run, "--format", "torchscript", "-o", run / "best.pt"))
    assert "would replace the input file" in line
    # an exported model is an input of predict
    line = one_error_line(feint_cli("predict", run / "model.onnx", tmp_path, "-o", run / "model.onnx"))
    assert "would replace the input file" in line and (run / "model.onnx").read_bytes() == before
    code, said, err = feint_cli("export", run, "--format", "torchscript", "-o", tmp_path / "t.onnx")
    assert code == 2 and "name it t.torchscript" in err
    code, said, err = feint_cli("export", run, "-o", taken, "--overwrite")
    assert code == 0, err
    assert said.startswith(f"{taken}: classifier (efficientnet_lite0, finetune, 3 classes), onnx, ")
    assert open_exported(taken).classes == ["blue", "green", "red"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


# --- no network ---------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """socket connections anywhere but this machine raise (and are recorded)."""
    attempts: list[Any] = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def local(address: Any) -> bool:
        host = address[0] if isinstance(address, tuple) else address
        return isinstance(host, str) and (
            host.startswith("127.") or host in ("::1", "localhost") or "/" in host
        )

    def connect(self: socket.socket, address: Any) -> Any:
        if self.family == socket.AF_UNIX or local(address):
            return real_connect(self, address)
        attempts.append(address)
        raise OSError(f"test: no network ({address})")

    def connect_ex(self: socket.socket, address: Any) -> Any:
        if self.family == socket.AF_UNIX or local(address):
            return real_connect_ex(self, address)
        attempts.append(address)
        raise OSError(f"test: no network ({address})")

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return attempts


def test_export_and_onnx_runtime_make_no_network_attempt(
    workspace: dict[str, Path], feint_cli: Any, tmp_path: Path, no_network: list[Any]
) -> None:
    # the guard works: a connection out is refused and recorded
    with (
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe,
        pytest.raises(OSError, match="no network"),
    ):
        probe.connect(("192.0.2.1", 80))
    assert no_network == [("192.0.2.1", 80)]
    no_network.clear()
    classifier, detector = tmp_path / "c.onnx", tmp_path / "d.onnx"
    assert feint_cli("export", workspace["finetune"], "-o", classifier)[0] == 0
    assert feint_cli("export", workspace["detector"], "-o", detector)[0] == 0
    assert feint_cli("predict", classifier, workspace["colours"] / "val")[0] == 0
    images = sorted((workspace["shapes"] / "images").iterdir())[:2]
    assert feint_cli("detect", "predict", detector, *images, "-o", tmp_path / "boxes")[0] == 0
    assert no_network == []
