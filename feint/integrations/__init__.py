"""Bridges from feint's datasets and trained runs to other tools; a late stage: it reads datasets and runs'
predictions, and nothing in feint imports it but the CLI.

- fiftyone.py: `feint data export --to fiftyone`: a dataset (labels, boxes, masks, splits, sources,
  metadata and render parameters) and runs' predictions as a FiftyOne dataset, evaluated by FiftyOne
  (optional extra: `pip install 'feint[fiftyone]'`).
"""
