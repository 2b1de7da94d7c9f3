"""`export_run(run, "onnx" | "torchscript")`: a trained run as one self-contained model file.

Classifier runs (finetune and frozen) become backbone + head in one graph: uint8 RGB images (N, 3, size,
size), any batch, in; class probabilities (N, classes) out. A frozen run's backbone is the ImageNet one it
computed its features with. Detector runs (torchvision Faster R-CNN) become one image (3, H, W) uint8 RGB,
its longer side the run's size, in; boxes (N, 4) xyxy in that image's pixels, labels (N,) indexing the
classes, scores (N,) out, best first (every box the model keeps; choose a score threshold yourself).

How the graph is made: torch.onnx's dynamo exporter (torch.export) for classifiers; for detectors the
TorchScript-based one (dynamo=False), since torch.export cannot trace torchvision's detection post-processing
(its batched NMS branches on the number of boxes, a data-dependent value). TorchScript files are traced.

Every export is run once on a test input of another shape than the one traced (another batch size, another
aspect ratio) and compared with PyTorch, so a shape frozen into the graph is caught here, not in use.
"""

from __future__ import annotations

import io
import json
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feint.deploy.metadata import EXTRA_FILE, RESIZE_RULES, ModelInfo
from feint.errors import FeintError

FORMATS = {"onnx": ".onnx", "torchscript": ".torchscript"}
EXPORT_SUFFIXES = tuple(FORMATS.values())
DEFAULT_NAME = "model"  # RUN/model.onnx, RUN/model.torchscript
LEGACY_OPSET = 17  # the TorchScript-based exporter: torchvision's RoIAlign and NMS need 16 or later
# An export agrees with PyTorch within this on its test input, else it is a bug (probabilities; pixels).
AGREEMENT = 1e-3
MIN_MATCHED = 0.9  # detector boxes found on both sides (equal scores at the 100-box cut may differ)


@dataclass
class Prepared:
    """A model ready to export: the module, its example and check inputs, names and the record."""

    module: Any
    example: Any  # traced with this
    check: Any  # compared with PyTorch on this (another shape)
    info: ModelInfo


def run_kind(run: Path) -> str:
    """classifier or detector, from the run's config.json; one-line errors for anything else."""
    from feint.detection.yolo import is_yolo_model

    if not run.is_dir():
        raise FeintError(
            f"{run}: no such run folder"
            if not run.exists()
            else f"{run}: a file; give a run folder written by `feint train` or `feint detect train`"
        )
    try:
        config = json.loads((run / "config.json").read_text())
    except FileNotFoundError:
        raise FeintError(
            f"{run}: not a run (no config.json); give a folder written by `feint train` or "
            "`feint detect train`"
        ) from None
    except ValueError:
        config = None
    if not isinstance(config, dict):
        raise FeintError(f"{run / 'config.json'}: not a feint run configuration (damaged JSON)")
    if "model" in config:
        if is_yolo_model(str(config["model"])):
            raise FeintError(
                f"{run}: a YOLO run ({config['model']}); feint export writes Faster R-CNN and classifier "
                f"runs: export YOLO weights with Ultralytics (yolo export model={run}/ultralytics/weights/"
                "best.pt format=onnx)"
            )
        return "detector"
    if "mode" in config:
        return "classifier"
    raise FeintError(f"{run}: config.json is neither a `feint train` nor a `feint detect train` run's")


def default_output(run: Path, fmt: str) -> Path:
    return run / f"{DEFAULT_NAME}{FORMATS[fmt]}"


def check_format(fmt: str, out: Path | None) -> None:
    if fmt not in FORMATS:
        raise FeintError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    if out is None:
        return
    if fmt == "onnx" and out.suffix.lower() != ".onnx":
        raise FeintError(
            f"-o {out}: an ONNX model is named *.onnx (feint predict knows it by that); e.g. {out.stem}.onnx"
        )
    if fmt == "torchscript" and out.suffix.lower() == ".onnx":
        raise FeintError(
            f"-o {out}: a TorchScript model named .onnx would be taken for an ONNX one; name it "
            f"{out.stem}.torchscript"
        )


def protected(run: Path) -> Any:
    """What an export reads and must never write over: the run's files (weights, config, records), but not
    earlier exports lying in it (they are outputs, replaced with --overwrite)."""
    from feint.outputs import Inputs

    return Inputs.of(files=[p for p in run.iterdir() if p.is_file() and p.suffix not in EXPORT_SUFFIXES])


def export_run(
    run: str | Path, fmt: str = "onnx", out: str | Path | None = None, overwrite: bool = False
) -> dict[str, Any]:
    """Write the run's best weights as one model file (`out`, default RUN/model.onnx or
    RUN/model.torchscript); returns what was written and how closely it agrees with PyTorch."""
    from feint.outputs import check_file_output, write_file_output

    run = Path(run)
    check_format(fmt, Path(out) if out is not None else None)
    kind = run_kind(run)
    target = Path(out) if out is not None else default_output(run, fmt)
    check_file_output(target, protected(run), overwrite)
    prepared = _prepare_classifier(run, fmt) if kind == "classifier" else _prepare_detector(run, fmt)
    with (
        warnings.catch_warnings()
    ):  # the tracers' notes on constants and Python values are about torchvision's code
        warnings.simplefilter("ignore")
        data = _to_onnx(prepared, kind) if fmt == "onnx" else _to_torchscript(prepared)
        difference, matched = _agreement(prepared, data, fmt, kind)
    if difference > AGREEMENT or matched < MIN_MATCHED:
        raise RuntimeError(
            f"the exported {kind} disagrees with PyTorch on its test input (largest difference "
            f"{difference:.3g}, {matched:.0%} of the outputs matched): a bug in the export"
        )
    write_file_output(target, data)
    info = prepared.info
    return {
        "out": str(target),
        "task": kind,
        "format": fmt,
        "bytes": len(data),
        "classes": info.classes,
        "input_size": info.input_size,
        "backbone": info.backbone,
        "mode": info.mode,
        "exporter": info.exporter,
        "difference": difference,
        "matched": matched,
    }


def _info(run: Path, kind: str, fmt: str, classes: list[str], size: int, spec: Any, mode: str) -> ModelInfo:
    import torch

    import feint

    resize = "stretch" if kind == "classifier" else "longer_side"
    if fmt == "torchscript":
        exporter = f"torch.jit.trace (torch {torch.__version__})"
    elif kind == "classifier":
        exporter = f"torch.onnx.export, dynamo (torch {torch.__version__})"
    else:
        exporter = f"torch.onnx.export, dynamo=False, opset {LEGACY_OPSET} (torch {torch.__version__})"
    return ModelInfo(
        task=kind,
        classes=list(classes),
        input_size=int(size),
        resize=resize,
        mean=[float(v) for v in spec.mean],
        std=[float(v) for v in spec.std],
        input_name="images" if kind == "classifier" else "image",
        input_layout="NCHW" if kind == "classifier" else "CHW",
        outputs=["probabilities"] if kind == "classifier" else ["boxes", "labels", "scores"],
        run=str(run.resolve()),
        checkpoint="best.pt",
        backbone=spec.name,
        mode=mode,
        exporter=exporter,
        feint_version=feint.__version__,
        torch_version=torch.__version__,
        preprocessing=RESIZE_RULES[resize],
    )


def _test_pixels(shape: tuple[int, ...], seed: int) -> Any:
    """Noise images, uint8, from a fixed seed."""
    import torch

    return torch.from_numpy(np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8))


def _prepare_classifier(run: Path, fmt: str) -> Prepared:
    import torch
    from torch import nn

    from feint.evaluation.runs import load_run
    from feint.training.backbones import create_backbone
    from feint.training.model import Classifier, make_head

    loaded = load_run(run)
    ckpt = loaded.checkpoint
    head = make_head(ckpt["head"]["width"], len(loaded.classes), ckpt["head"]["hidden"])
    head.load_state_dict(ckpt["state"]["head"])
    if ckpt["state"]["backbone"] is None:  # frozen: the ImageNet backbone its features came from
        backbone = create_backbone(loaded.spec)
    else:
        backbone = create_backbone(loaded.spec, pretrained=False)
        backbone.load_state_dict(ckpt["state"]["backbone"])

    class Probabilities(nn.Module):
        """uint8 RGB (N, 3, size, size) -> class probabilities (N, classes)."""

        def __init__(self, classifier: nn.Module) -> None:
            super().__init__()
            self.classifier = classifier

        def forward(self, images: torch.Tensor) -> torch.Tensor:
            return torch.softmax(self.classifier(images), 1)

    module = Probabilities(Classifier(backbone, head, loaded.spec.mean, loaded.spec.std)).eval()
    size = loaded.size
    info = _info(run, "classifier", fmt, loaded.classes, size, loaded.spec, loaded.mode)
    return Prepared(module, _test_pixels((2, 3, size, size), 0), _test_pixels((3, 3, size, size), 1), info)


def _prepare_detector(run: Path, fmt: str) -> Prepared:
    import torch
    from torch import nn

    from feint.detection.folder import load_checkpoint
    from feint.detection.runs import load_detector
    from feint.training.backbones import spec_from_record

    loaded = load_detector(run)
    spec = spec_from_record(load_checkpoint(run / "best.pt")["backbone"])

    class Boxes(nn.Module):
        """uint8 RGB (3, H, W) -> boxes (N, 4), labels (N,) from 0, scores (N,)."""

        def __init__(self, detector: nn.Module) -> None:
            super().__init__()
            self.detector = detector

        def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            found = self.detector([image.float() / 255])[0]
            return found["boxes"], found["labels"] - 1, found["scores"]

    module = Boxes(loaded.model).eval()
    size = loaded.size
    short = max(1, round(size * 0.75))
    info = _info(run, "detector", fmt, loaded.classes, size, spec, "fasterrcnn")
    # traced landscape, checked portrait: a height or width frozen into the graph shows
    return Prepared(module, _test_pixels((3, short, size), 0), _test_pixels((3, size, short), 1), info)


def _to_onnx(prepared: Prepared, kind: str) -> bytes:
    import onnx
    import torch

    info = prepared.info
    if kind == "classifier":
        batch = torch.export.Dim("batch", min=1, max=65_536)
        program = torch.onnx.export(
            prepared.module,
            (prepared.example,),
            None,
            dynamo=True,
            verbose=False,
            input_names=[info.input_name],
            output_names=info.outputs,
            dynamic_shapes=({0: batch},),
        )
        if program is None:  # only None when written to a file
            raise RuntimeError("torch.onnx.export returned no program")
        model = program.model_proto
    else:
        with tempfile.TemporaryDirectory(prefix="feint-export-") as folder:  # it writes to a path
            file = Path(folder) / "model.onnx"
            _legacy_onnx(prepared, file)
            model = onnx.load(file)
    model.doc_string = f"feint {info.task} exported from {info.run}; see its metadata_props"
    for key, value in info.to_strings().items():
        model.metadata_props.add(key=key, value=value)
    return bytes(model.SerializeToString())


def _legacy_onnx(prepared: Prepared, file: Path) -> None:
    """The TorchScript-based exporter: one image of any height and width, as many boxes as found."""
    import torch

    info = prepared.info
    torch.onnx.export(
        prepared.module,
        (prepared.example,),
        file,
        dynamo=False,
        input_names=[info.input_name],
        output_names=info.outputs,
        dynamic_axes={
            info.input_name: {1: "height", 2: "width"},
            **{name: {0: "boxes"} for name in info.outputs},
        },
        opset_version=LEGACY_OPSET,
    )


def _to_torchscript(prepared: Prepared) -> bytes:
    import torch

    with torch.inference_mode(False), torch.no_grad():
        traced = torch.jit.trace(prepared.module, (prepared.example,), check_trace=False)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer, _extra_files={EXTRA_FILE: prepared.info.to_json()})
    return buffer.getvalue()


def _agreement(prepared: Prepared, data: bytes, fmt: str, kind: str) -> tuple[float, float]:
    """How closely the exported model reproduces PyTorch on the check input: (largest difference, share of
    outputs matched). A classifier: its probabilities, all matched. A detector: each box of either side
    matched to one of the same label within MATCH_PX in the other (equal scores may come in another
    order); the largest corner (pixels) or score difference of a match."""
    import torch

    with torch.no_grad():
        expected = prepared.module(prepared.check)
        if fmt == "torchscript":
            got = torch.jit.load(io.BytesIO(data))(prepared.check)
        else:
            import onnxruntime as ort

            session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
            got = session.run(None, {prepared.info.input_name: prepared.check.numpy()})
    if kind == "classifier":
        return float(np.abs(np.asarray(got) - expected.numpy()).max()), 1.0
    ours = [np.asarray(t) for t in expected]
    theirs = [np.asarray(t) for t in got]
    return match_boxes(ours, theirs)


MATCH_PX = 0.5


def match_boxes(ours: list[np.ndarray], theirs: list[np.ndarray]) -> tuple[float, float]:
    """(largest corner or score difference of matched boxes, share of boxes matched) of two detectors'
    (boxes, labels, scores) on one image; (0, 1) when neither finds anything."""
    worst, matched, total = 0.0, 0, 0
    for (a, la, sa), (b, lb, sb) in ((ours, theirs), (theirs, ours)):
        for box, label, score in zip(a, la, sa, strict=True):
            total += 1
            same = np.flatnonzero(lb == label)
            if not len(same):
                continue
            corners = np.abs(b[same] - box).max(axis=1)
            best = int(np.argmin(corners))
            if corners[best] <= MATCH_PX:
                matched += 1
                worst = max(worst, float(corners[best]), float(abs(sb[same[best]] - score)))
    return worst, matched / total if total else 1.0
