"""DeFeat (Guo et al., CVPR 2021, "Distilling Object Detectors via Decoupled Features"): decoupled FPN imitation.

Only the neck part; DeFeat's head part (decoupled RoI KL) has no counterpart in a dense detector."""
from __future__ import annotations

from torch import Tensor, nn

from repro.distill.losses.fitnets import adaptation_or_check, masked_square_error


class DeFeatLoss(nn.Module):
    """DeFeat's decoupled neck imitation: inside-GT and background locations, each normalised by its own count.

    Per level l, with r the adaptation conv:
        fg_weight · Σ_fg (r(s) − t)² / (2·C·N_fg,l) + bg_weight · Σ_bg (r(s) − t)² / (2·C·N_bg,l),
    N_·,l the level's masked locations in the batch (clamped at 1), then averaged over levels. Normalisation,
    weights and the adaptation layer (one 3x3 conv per FPN level, no activation) follow the authors' released code
    (ggjy/DeFeat.pytorch: `hint_neck_w=3`, `hint_neck_back_w=12`, norms = max(1, 2·mask.sum()) with the mask
    repeated over channels, the sum divided by the number of levels). That code also anneals KD losses when the
    config type holds 'decay'; the released config does not, and neither do we.

    Args:
        student_channels, teacher_channels: FPN widths (filled in by the detector).
        fg_weight, bg_weight: the two weights (inside GT boxes, outside every box).
        adapt: use the adaptation conv; False compares raw maps (equal widths needed).
        kernel_size: the conv's kernel.
        num_levels: one conv per level (5 FPN levels); 0 shares one conv.
    """

    def __init__(self, student_channels: int | None = None, teacher_channels: int | None = None,
                 fg_weight: float = 3.0, bg_weight: float = 12.0, adapt: bool = True, kernel_size: int = 3,
                 num_levels: int = 5):
        super().__init__()
        self.fg_weight, self.bg_weight = fg_weight, bg_weight
        self.adapt = adaptation_or_check(adapt, student_channels, teacher_channels, kernel_size, num_levels,
                                         'DeFeatLoss')

    def forward(self, student: list[Tensor], teacher: list[Tensor], fg: list[Tensor], bg: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W); fg, bg: per level (N, H, W) 0/1 masks (`gt_box` guide)."""
        if self.adapt is not None:
            student = self.adapt(student)
        total = student[0].new_zeros(())
        for s, t, f, b in zip(student, teacher, fg, bg):
            norm = 2 * s.shape[1]
            for weight, mask in ((self.fg_weight, f), (self.bg_weight, b)):
                sq, count = masked_square_error(s, t, mask)
                total = total + weight * sq / (norm * count.clamp(min=1))
        return total / len(student)
