"""Distillation: one detector, head adapters, KD loss modules. Importing it registers DistillDetector with mmdet
(configs load it through `custom_imports`)."""
from repro.distill.detector import DistillDetector  # noqa: F401
