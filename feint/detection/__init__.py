"""Object detection: train, predict and evaluate detectors on feint datasets (boxes), offline.

    from feint.detection import DetectConfig, train_detector, predict_detections, evaluate_detector

- models.py: torchvision Faster R-CNN (+ a small FPN) on a backbone from feint's offline ImageNet registry.
- data.py: `BoxedImages` (paths, boxes, labels) from any dataset feint reads; the resizing, flipping loader.
- train.py: `train_detector(DetectConfig)`, one run folder from data to checkpoints, resumable.
- runs.py: `load_detector(run)` and `Detections`; evaluate.py: COCO mAP (pycocotools), `evaluate_detector`.
- predict.py: boxes drawn on images, a grid, COCO results; plots.py: the figures.
- yolo.py: Ultralytics YOLO as an optional backend (`pip install 'feint[yolo]'`, AGPL-3.0).
"""

from feint.detection.evaluate import coco_scores, evaluate_detector
from feint.detection.predict import predict_detections
from feint.detection.train import DetectConfig, train_detector

__all__ = ["DetectConfig", "coco_scores", "evaluate_detector", "predict_detections", "train_detector"]
