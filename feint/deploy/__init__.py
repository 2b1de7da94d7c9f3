"""Deployment: a trained run exported as one model file, and exported ONNX models run by ONNX Runtime.

    from feint.deploy import export_run, open_exported
    export_run("runs/a", "onnx")                       # runs/a/model.onnx, preprocessing in its metadata
    model = open_exported("runs/a/model.onnx")         # predict_proba / detect, as the run's own model

- metadata.py: `ModelInfo`, the record an export carries (input size, resize rule, mean/std, classes, run).
- export.py: `export_run`, ONNX (torch.onnx) or TorchScript, checked against PyTorch before it is written.
- runtime.py: `open_exported`, ONNX Runtime on the CPU behind the calls `feint predict` and
  `feint detect predict` make on a run; images go through the run's own decoding and resizing code.

This stage comes after evaluation and detection: it reads their runs, and they never import it (the
commands hand an opened model to `predict` and `predict_detections`).
"""

from feint.deploy.export import export_run
from feint.deploy.metadata import ModelInfo
from feint.deploy.runtime import (
    OnnxClassifier,
    OnnxDetector,
    classifier_or_run,
    detector_or_run,
    open_exported,
)

__all__ = [
    "ModelInfo",
    "OnnxClassifier",
    "OnnxDetector",
    "classifier_or_run",
    "detector_or_run",
    "export_run",
    "open_exported",
]
