"""Exported ONNX models run through ONNX Runtime (CPU), behind the same calls as a run folder's model.

    model = open_exported("runs/a/model.onnx")        # OnnxClassifier or OnnxDetector, by its metadata
    probs = model.predict_proba(paths)                 # as `feint.evaluation.runs.Run.predict_proba`
    found = model.detect(paths, conf=0.25)             # as `feint.detection.runs.DetectorRun.detect`

Images are decoded and resized by the very functions the PyTorch path uses (the classifier's image cache,
the detector's loader), picked by the export's `resize` rule, so the two paths cannot drift apart; the
normalisation is inside the graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from feint.deploy.metadata import ModelInfo
from feint.errors import FeintError, note

ONNX_SUFFIX = ".onnx"
PROVIDERS = ["CPUExecutionProvider"]


def _session(path: Path, threads: int = 0) -> Any:
    """An ONNX Runtime session on the CPU (`threads` 0: ONNX Runtime's default, one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3  # errors only: its warnings about unused initialisers are noise here
    options.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(str(path), options, providers=PROVIDERS)
    except Exception as err:  # ORT raises its own types (InvalidProtobuf, Fail, ...) for a bad file
        reason = " ".join(str(err).split())[:200]
        raise FeintError(f"{path}: not a readable ONNX model ({reason})") from None


def _cpu_only(device: str) -> None:
    if device != "cpu":
        note(f"--device {device}: an exported model runs on the CPU (ONNX Runtime's CPUExecutionProvider)")


@dataclass
class _OnnxModel:
    """An exported model's file, its recorded metadata and its ONNX Runtime session."""

    path: Path
    info: ModelInfo
    session: Any

    @property
    def classes(self) -> list[str]:
        return list(self.info.classes)

    @property
    def size(self) -> int:
        return self.info.input_size


@dataclass
class OnnxClassifier(_OnnxModel):
    """An exported classifier: `classes`, and `predict_proba` as a run's."""

    def record(self) -> dict[str, Any]:
        return {"mode": self.info.mode, "backbone": self.info.backbone, "size": self.size, "exported": True}

    def predict_proba(
        self,
        paths: Sequence[Path],
        sizes: Sequence[tuple[int | None, int | None]] | None = None,
        cache: str | Path | None = None,
        batch: int = 64,
        progress: bool = False,
        device: str = "cpu",
    ) -> np.ndarray:
        """(N, classes) probabilities; images decoded and resized through the image cache, as a run's."""
        from feint.training.cache import image_rows

        _cpu_only(device)
        images = image_rows(paths, self.size, cache, sizes, progress)  # the "stretch" rule
        out = [np.zeros((0, len(self.classes)), dtype=np.float32)]
        for start in range(0, len(images), batch):
            chunk = np.stack([images[i] for i in range(start, min(start + batch, len(images)))])
            x = np.ascontiguousarray(chunk.transpose(0, 3, 1, 2))  # NHWC -> NCHW
            out.append(self.session.run(None, {self.info.input_name: x})[0].astype(np.float32))
        return np.concatenate(out)


class _SessionAsTorchvision:
    """An exported detector dressed as a torchvision detector in eval mode, so that `detect_images` (the
    run's loader, resizing and mapping back) serves both: float [0, 1] images in, 1-based labels out."""

    def __init__(self, session: Any, input_name: str) -> None:
        self.session = session
        self.input_name = input_name

    def eval(self) -> _SessionAsTorchvision:
        return self

    def __call__(self, images: list[Any]) -> list[dict[str, Any]]:
        import torch

        found = []
        for image in images:  # the graph takes one image: sizes differ
            pixels = image.mul(255).round_().to(torch.uint8).cpu().numpy()  # exact: the loader's k / 255
            boxes, labels, scores = self.session.run(None, {self.input_name: pixels})
            found.append(
                {
                    "boxes": torch.from_numpy(boxes),
                    "labels": torch.from_numpy(labels.astype(np.int64) + 1),
                    "scores": torch.from_numpy(scores),
                }
            )
        return found


@dataclass
class OnnxDetector(_OnnxModel):
    """An exported detector: `path`, `classes`, `size`, and `detect` as a run's."""

    backend: str = "onnxruntime"

    def detect(
        self,
        paths: Sequence[Path],
        sizes: Sequence[tuple[int | None, int | None]] | None = None,
        conf: float = 0.0,
        batch: int = 4,
        workers: int = 0,
        device: str = "cpu",
        progress: bool = False,
    ) -> list[Any]:
        """`Detections` per image, boxes in the image's own pixels (the "longer_side" rule)."""
        from feint.detection.runs import detect_images

        _cpu_only(device)
        model = _SessionAsTorchvision(self.session, self.info.input_name)
        found = detect_images(model, paths, self.size, sizes, batch, workers, "cpu", progress)
        return [d.above(conf) for d in found]


EXPECTED_RESIZE = {"classifier": "stretch", "detector": "longer_side"}


def open_exported(
    path: str | Path, task: str | None = None, threads: int = 0
) -> OnnxClassifier | OnnxDetector:
    """An exported .onnx file, ready to predict; `task` (classifier, detector) says what the caller needs."""
    path = Path(path)
    if not path.is_file():
        raise FeintError(f"{path}: no such model file")
    session = _session(path, threads)
    info = ModelInfo.from_strings(dict(session.get_modelmeta().custom_metadata_map), str(path))
    if task is not None and info.task != task:
        command = "feint predict" if info.task == "classifier" else "feint detect predict"
        raise FeintError(f"{path}: an exported {info.task}, not a {task}; run it with `{command}`")
    if info.resize != EXPECTED_RESIZE[info.task]:
        raise FeintError(f"{path}: a {info.task} with resize rule {info.resize!r}: this feint cannot feed it")
    if info.input_name not in [i.name for i in session.get_inputs()]:
        raise FeintError(
            f"{path}: its metadata names the input {info.input_name!r}, the graph has no such input"
        )
    return (
        OnnxClassifier(path, info, session)
        if info.task == "classifier"
        else OnnxDetector(path, info, session)
    )


def classifier_or_run(path: Path) -> Path | OnnxClassifier:
    """What `feint predict`'s RUN names: a run folder (returned as it is, for the run's own loader and its
    errors) or an exported .onnx classifier, opened; any other file is refused with what is accepted."""
    model = _exported_file(path, "classifier")
    assert model is None or isinstance(model, OnnxClassifier)  # open_exported checked the task
    return path if model is None else model


def detector_or_run(path: Path) -> Path | OnnxDetector:
    """What `feint detect predict`'s RUN names: a run folder, or an exported .onnx detector, opened."""
    model = _exported_file(path, "detector")
    assert model is None or isinstance(model, OnnxDetector)  # open_exported checked the task
    return path if model is None else model


def _exported_file(path: Path, task: str) -> OnnxClassifier | OnnxDetector | None:
    if not path.is_file():
        return None
    if path.suffix.lower() == ONNX_SUFFIX:
        return open_exported(path, task)
    trained = "feint train" if task == "classifier" else "feint detect train"
    raise FeintError(
        f"{path}: a file; give a run folder (written by `{trained}`) or a model exported as .onnx "
        "(`feint export RUN`); a TorchScript export runs in PyTorch (torch.jit.load), not here"
    )
