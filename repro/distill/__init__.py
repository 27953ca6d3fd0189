"""Distillation: one detector, head adapters, KD loss modules. Importing it registers DistillDetector and AssistantHeadDetector (HEAD) with mmdet
(configs load it through `custom_imports`)."""
from repro.distill.assistant import AssistantHeadDetector  # noqa: F401
from repro.distill.detector import DistillDetector  # noqa: F401
