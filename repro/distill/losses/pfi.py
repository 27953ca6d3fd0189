"""Prediction-guided Feature Imitation, PFI (Li et al., "KD for Object Detection via RM and PFI", AAAI 2022)."""
from __future__ import annotations

from torch import Tensor, nn


class PFILoss(nn.Module):
    """FPN feature imitation, each location's squared difference weighted by the prediction difference there.

    Per level: mean over images and locations of w · (1/C) Σ_c (F_s − F_t)², with w the detached prediction
    difference from the `prediction_difference` guide; the loss is the mean over levels. Where the two FPN widths
    differ, a 1x1 conv maps the student's features to the teacher's width first (FitNets-style; RetinaNet R50 and
    R101 both have 256 channels, so the headline setting has none).

    Args:
        student_channels, teacher_channels: FPN widths (filled in by the detector).
    """

    def __init__(self, student_channels: int | None = None, teacher_channels: int | None = None):
        super().__init__()
        needs_adapter = student_channels and teacher_channels and student_channels != teacher_channels
        self.adapter = nn.Conv2d(student_channels, teacher_channels, 1) if needs_adapter else None

    def forward(self, student: list[Tensor], teacher: list[Tensor], weight: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W) features; weight: per level (N, H, W). Returns a scalar."""
        total = student[0].new_zeros(())
        for s, t, w in zip(student, teacher, weight):
            if self.adapter is not None:
                s = self.adapter(s)
            total = total + (w.detach() * (s - t.detach()).pow(2).mean(1)).mean()
        return total / len(student)
