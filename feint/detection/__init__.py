"""Object detection: train, predict and evaluate detectors on feint datasets (boxes), offline.

    from feint.detection import DetectConfig, train_detector, predict_detections, evaluate_detector

Data flows one way through the modules; each imports only those above it:
- types.py: `DetectConfig`, `Detections`, the checkpoint format (imports no other detection module).
- data.py: the training and validation datasets of a run, `BoxedImages` (paths, boxes, labels) from any
  dataset feint reads, the resizing, flipping loader.
- models.py: torchvision Faster R-CNN (+ a small FPN) on a backbone from feint's offline ImageNet registry.
- plots.py: the figures. folder.py: the run folder both backends write (config.json, data.csv, MLflow).
- yolo.py: Ultralytics YOLO as an optional backend (`pip install 'feint[yolo]'`, AGPL-3.0).
- runs.py: `load_detector(run)`, a trained run of either backend, and its `detect`.
- evaluate.py: COCO results and mAP (pycocotools), `evaluate_detector`.
- predict.py: boxes drawn on images, a grid, COCO results.
- train.py: `train_detector(DetectConfig)`, one run folder from data to checkpoints, resumable.
"""

from feint.detection.evaluate import coco_scores, evaluate_detector
from feint.detection.predict import predict_detections
from feint.detection.train import train_detector
from feint.detection.types import DetectConfig

__all__ = ["DetectConfig", "coco_scores", "evaluate_detector", "predict_detections", "train_detector"]
