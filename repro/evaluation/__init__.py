"""Evaluation metrics beyond mmdet's own. Importing it registers CrowdDetMetric and FasterCocoMetric in mmdet's
METRICS (configs load it through `custom_imports`, as configs/datasets/crowdhuman.py does; repro.train picks
the COCO backend, coco_backend.py)."""
from repro.evaluation.coco_backend import FasterCocoMetric  # noqa: F401
from repro.evaluation.crowd_metric import CrowdDetMetric  # noqa: F401
