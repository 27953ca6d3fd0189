"""Evaluation metrics beyond mmdet's own. Importing it registers CrowdDetMetric in mmdet's METRICS
(configs load it through `custom_imports`, as configs/datasets/crowdhuman.py does)."""
from repro.evaluation.crowd_metric import CrowdDetMetric  # noqa: F401
