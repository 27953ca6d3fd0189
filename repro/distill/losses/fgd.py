"""FGD: Yang et al., "Focal and Global Knowledge Distillation for Detectors", CVPR 2022."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from repro.distill.losses.pgd import spatial_attention
from repro.errors import ReproError


def mean_spatial_attention(feat: Tensor, temperature: float) -> Tensor:
    """FGD's A^S (eq. 5, 7): H·W · softmax over locations of (1/C) Σ_c |F_c| / T. feat (N, C, H, W) -> (N, H, W).

    PGD's P (eq. 7 there) sums over channels instead of averaging, so it is the same map at τ = C·T.
    """
    return spatial_attention(feat, temperature * feat.shape[1])


def global_channel_attention(feat: Tensor, temperature: float) -> Tensor:
    """FGD's A^C (eq. 6, 8): C · softmax over channels of (1/HW) Σ_ij |F_ij| / T, one weight per channel for the
    whole map (PGD's channel attention is per location instead). feat (N, C, H, W) -> (N, C)."""
    return feat.shape[1] * torch.softmax(feat.abs().mean((2, 3)) / temperature, dim=1)


class GcBlock(nn.Module):
    """FGD's relation module (GCNet; in FGD eq. 12): R(F) = F + W_v2(ReLU(LN(W_v1(Σ_j softmax_j(W_k F)_j F_j)))).

    Initialised as FGD's code does: W_k Kaiming (fan-in), the last conv W_v2 zero, so R starts as the identity.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.key = nn.Conv2d(channels, 1, kernel_size=1)
        hidden = max(channels // 2, 1)
        self.transform = nn.Sequential(nn.Conv2d(channels, hidden, kernel_size=1), nn.LayerNorm([hidden, 1, 1]),
                                       nn.ReLU(), nn.Conv2d(hidden, channels, kernel_size=1))
        nn.init.kaiming_normal_(self.key.weight, mode='fan_in', nonlinearity='relu')
        nn.init.zeros_(self.key.bias)
        nn.init.zeros_(self.transform[-1].weight)
        nn.init.zeros_(self.transform[-1].bias)

    def forward(self, feat: Tensor) -> Tensor:
        n, c = feat.shape[:2]
        weights = torch.softmax(self.key(feat).reshape(n, 1, -1), dim=2)          # (N, 1, HW)
        context = torch.bmm(feat.reshape(n, c, -1), weights.transpose(1, 2))       # (N, C, 1)
        return feat + self.transform(context.reshape(n, c, 1, 1))


class FGDLoss(nn.Module):
    """FGD on the FPN maps, summed over levels; each term summed over its elements and divided by the batch size.

        α Σ M·S·A^S_t·A^C_t·(F_t − f(F_s))² + β Σ (1 − M)·S·A^S_t·A^C_t·(F_t − f(F_s))²      (focal, eq. 9)
      + γ (Σ |A^S_t − A^S_s| + Σ |A^C_t − A^C_s|)                                          (attention, eq. 10)
      + λ Σ (R_t(F_t) − R_s(f(F_s)))²                                                       (global, eq. 12)

    f is a 1x1 adaptation conv when the widths differ (identity otherwise, as in FGD's code). The masks come from the
    `gt_box_scaled` guide: fg = M·S (1/(H_r·W_r) of the smallest box r holding the location, in feature cells) and
    bg = (1 − M)·S (1/N_bg). Each FPN level has its own R_t, R_s and f (FGD's code builds one loss per level); R_t is
    trained too, but only this loss trains it (the teacher's own weights stay frozen).

    Args:
        student_channels, teacher_channels: FPN widths (set by the detector).
        temperature: T of the attention masks.
        alpha, beta, gamma, lambda_: the four weights above.
        num_levels: FPN levels (one R_t, R_s, f each).
    """

    def __init__(self, student_channels: int = 256, teacher_channels: int = 256, temperature: float = 0.5,
                 alpha: float = 1e-3, beta: float = 5e-4, gamma: float = 5e-4, lambda_: float = 5e-6,
                 num_levels: int = 5):
        super().__init__()
        if temperature <= 0:
            raise ReproError(f'FGDLoss temperature is {temperature}: it must be > 0')
        self.temperature, self.alpha, self.beta, self.gamma, self.lambda_ = temperature, alpha, beta, gamma, lambda_
        self.num_levels = num_levels
        self.align = nn.ModuleList(
            nn.Conv2d(student_channels, teacher_channels, kernel_size=1) if student_channels != teacher_channels
            else nn.Identity() for _ in range(num_levels))
        self.relation_s = nn.ModuleList(GcBlock(teacher_channels) for _ in range(num_levels))
        self.relation_t = nn.ModuleList(GcBlock(teacher_channels) for _ in range(num_levels))

    def forward(self, student: list[Tensor], teacher: list[Tensor], fg: list[Tensor], bg: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W); fg, bg: per level (N, H, W) masks M·S and (1 − M)·S."""
        if len(student) != self.num_levels:
            raise ReproError(f'FGDLoss got {len(student)} FPN levels but was built for num_levels={self.num_levels}')
        total = student[0].new_zeros(())
        for level, (s, t, m_fg, m_bg) in enumerate(zip(student, teacher, fg, bg)):
            total = total + self._level(level, self.align[level](s), t.detach(), m_fg, m_bg)
        return total / student[0].shape[0]

    def _level(self, level: int, s: Tensor, t: Tensor, fg: Tensor, bg: Tensor) -> Tensor:
        temp = self.temperature
        spatial_t, spatial_s = mean_spatial_attention(t, temp), mean_spatial_attention(s, temp)
        channel_t, channel_s = global_channel_attention(t, temp), global_channel_attention(s, temp)
        weighted = spatial_t[:, None] * channel_t[:, :, None, None] * (t - s) ** 2
        focal = self.alpha * (fg[:, None] * weighted).sum() + self.beta * (bg[:, None] * weighted).sum()
        attention = (spatial_t - spatial_s).abs().sum() + (channel_t - channel_s).abs().sum()
        relation = ((self.relation_t[level](t) - self.relation_s[level](s)) ** 2).sum()
        return focal + self.gamma * attention + self.lambda_ * relation
