"""Measure trained runs: `evaluate(run, data)` (metrics, intervals, figures) and `predict(run, images)`.

- metrics.py: confusion matrix, accuracy, balanced accuracy, per-class P/R/F1, group bootstrap (numpy).
- runs.py: `load_run`, class probabilities of a run for image files (through the feature or image cache).
- evaluate.py / predict.py: the `feint eval` and `feint predict` work; plots.py: their figures.
"""

from feint.evaluation.evaluate import evaluate
from feint.evaluation.predict import predict
from feint.evaluation.runs import load_run

__all__ = ["evaluate", "load_run", "predict"]
