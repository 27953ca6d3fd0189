"""FRS: Du et al., "Distilling Object Detectors with Feature Richness", NeurIPS 2021."""
from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from repro.errors import ReproError

KINDS = ('feature', 'cls')


class FRSLoss(nn.Module):
    """Feature-richness-weighted imitation of one-stage detectors, summed over FPN levels.

    'feature' (on the FPN maps): Σ_{n,c,h,w} S·(F_t − a(F_s))² / Σ_{n,h,w} S per level, a a 3x3 adaptation conv
    per level (the authors' `ADAP` neck: 3x3, no activation, also for equal widths).
    'cls' (on the raw class-logit maps, feature='pred_cls'): Σ S·BCE(σ(p_s), σ(p_t)) / Σ S per level, the BCE
    summed over classes and anchors.
    S is the `feature_richness` guide's score. The authors' code also ramps both weights up linearly over the
    first 500 iterations (`distill_warm_step`): the terms' `warmup_iters` (configs/methods/_base_/frs_terms.py).

    Args:
        kind: 'feature' or 'cls'.
        student_channels, teacher_channels: FPN widths (set by the detector; 'feature' only).
        num_levels: FPN levels (one adaptation conv each).
    """

    def __init__(self, kind: str = 'feature', student_channels: int = 256, teacher_channels: int = 256,
                 num_levels: int = 5):
        super().__init__()
        if kind not in KINDS:
            raise ReproError(f"FRSLoss kind is {kind!r}: choose one of {', '.join(KINDS)}")
        self.kind, self.num_levels = kind, num_levels
        if kind == 'feature':
            self.adapt = nn.ModuleList(nn.Conv2d(student_channels, teacher_channels, kernel_size=3, padding=1)
                                       for _ in range(num_levels))

    def forward(self, student: list[Tensor], teacher: list[Tensor], richness: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W) features or class logits; richness: per level (N, H, W)."""
        if len(student) != self.num_levels:
            raise ReproError(f'FRSLoss got {len(student)} levels but was built for num_levels={self.num_levels}')
        total = student[0].new_zeros(())
        for level, (s, t, score) in enumerate(zip(student, teacher, richness)):
            t = t.detach()
            if self.kind == 'feature':
                per_element = (t - self.adapt[level](s)) ** 2
            else:
                per_element = F.binary_cross_entropy_with_logits(s, t.sigmoid(), reduction='none')
            total = total + (per_element * score[:, None]).sum() / score.sum().clamp(min=1e-6)
        return total
