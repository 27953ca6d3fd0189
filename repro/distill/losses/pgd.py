"""Prediction-guided feature and attention distillation (PGD, Yang et al., ECCV 2022, eq. 5-9)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from repro.errors import ReproError


def spatial_attention(feat: Tensor, tau: float) -> Tensor:
    """P of eq. 7: H·W · softmax over locations of Σ_k |F_k| / τ. feat (N, C, H, W) -> (N, H, W)."""
    n, _, h, w = feat.shape
    return h * w * torch.softmax(feat.abs().sum(1).reshape(n, -1) / tau, dim=1).reshape(n, h, w)


def channel_attention(feat: Tensor, tau: float) -> Tensor:
    """A of eq. 7, per location: C · softmax over channels of |F| / τ. feat (N, C, H, W) -> (N, C, H, W)."""
    return feat.shape[1] * torch.softmax(feat.abs() / tau, dim=1)


class PGDLoss(nn.Module):
    """PGD's decoupled distillation of one head branch, summed over FPN levels and averaged over images.

    'cls' (also used for the FPN features, PGD Table 7's neck branch): eq. 5, weighted by α·M + β·N and the
    teacher's spatial and channel attention, plus eq. 8 on both attentions. 'reg': eq. 6 (γ·M and the teacher's
    channel attention) plus eq. 9, the channel-attention loss where M ≠ 0.

    Args:
        branch: 'cls', 'reg' or 'neck'.
        alpha: α; β = beta_ratio·α and γ = gamma_ratio·α unless given.
        delta: δ, the attention-loss weight.
        tau: τ, the attention temperature.
        spatial_over: 'sum' computes P over Σ_k |F_k| as eq. 7 prints it; 'mean' over the channel mean, as the
            authors' code does (the sum at τ·C). With the sum and τ = 0.8, P is nearly one-hot at 64-256 channels
            and eq. 5 outweighs the detection loss by orders of magnitude: our tiny K ablation collapsed to 0.8 AP.
        level_weights: a weight per FPN level (the authors' code: 1, 1.25, 1.5, 1.75, 2 for the cls branch).
    """

    def __init__(self, branch: str = 'cls', alpha: float = 0.08, beta: float | None = None,
                 gamma: float | None = None, delta: float = 0.0008, tau: float = 0.8,
                 level_weights: list[float] | None = None, beta_ratio: float = 0.5, gamma_ratio: float = 1.6,
                 spatial_over: str = 'sum'):
        super().__init__()
        if branch not in ('cls', 'reg', 'neck'):
            raise ReproError(f"PGDLoss branch is {branch!r}: choose cls, reg or neck")
        if spatial_over not in ('sum', 'mean'):
            raise ReproError(f"PGDLoss spatial_over is {spatial_over!r}: choose sum (the paper's text) or mean "
                             '(its code)')
        self.branch, self.alpha, self.delta, self.tau, self.spatial_over = branch, alpha, delta, tau, spatial_over
        self.beta = beta_ratio * alpha if beta is None else beta
        self.gamma = gamma_ratio * alpha if gamma is None else gamma
        self.level_weights = level_weights

    def forward(self, student: list[Tensor], teacher: list[Tensor], fg: list[Tensor], bg: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W); fg, bg: per level (N, H, W) masks M and N. Returns a scalar."""
        total = student[0].new_zeros(())
        for level, (s, t, m, b) in enumerate(zip(student, teacher, fg, bg)):
            weight = self.level_weights[level] if self.level_weights else 1.0
            total = total + weight * self._level(s, t.detach(), m, b)
        return total / student[0].shape[0]

    def _level(self, s: Tensor, t: Tensor, fg: Tensor, bg: Tensor) -> Tensor:
        a_t, a_s = channel_attention(t, self.tau), channel_attention(s, self.tau)
        sq = (t - s) ** 2
        if self.branch == 'reg':
            feature = (self.gamma * fg[:, None] * a_t * sq).sum()
            on = (fg != 0).float()[:, None]  # eq. 9 per image: mean |ΔA| over the locations where M ≠ 0
            per_image = (on * (a_t - a_s).abs()).sum((1, 2, 3)) / (s.shape[1] * on.sum((1, 2, 3))).clamp(min=1.0)
            return feature + self.delta * per_image.sum()
        tau_p = self.tau * s.shape[1] if self.spatial_over == 'mean' else self.tau
        p_t, p_s = spatial_attention(t, tau_p), spatial_attention(s, tau_p)
        feature = ((self.alpha * fg + self.beta * bg)[:, None] * p_t[:, None] * a_t * sq).sum()
        hw = s.shape[-1] * s.shape[-2]
        attention = self.delta * ((p_t - p_s).abs().sum() / hw + (a_t - a_s).abs().sum() / (s.shape[1] * hw))
        return feature + attention
