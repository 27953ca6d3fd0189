"""Prediction-guided feature and attention distillation (PGD, Yang et al., ECCV 2022, eq. 5-9)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from repro.errors import ReproError

FORMS = ('released', 'paper')


def spatial_attention(feat: Tensor, tau: float) -> Tensor:
    """P of eq. 7: H·W · softmax over locations of Σ_k |F_k| / τ. feat (N, C, H, W) -> (N, H, W)."""
    n, _, h, w = feat.shape
    return h * w * torch.softmax(feat.abs().sum(1).reshape(n, -1) / tau, dim=1).reshape(n, h, w)


def channel_attention(feat: Tensor, tau: float) -> Tensor:
    """A of eq. 7, per location: C · softmax over channels of |F| / τ. feat (N, C, H, W) -> (N, C, H, W)."""
    return feat.shape[1] * torch.softmax(feat.abs() / tau, dim=1)


class PGDLoss(nn.Module):
    """PGD's decoupled distillation of one head branch, summed over FPN levels.

    'cls' (also used for the FPN features, PGD Table 7's neck branch): eq. 5, weighted by α·M + β·N and the
    teacher's spatial and channel attention, plus eq. 8 on both attentions. 'reg': eq. 6 (γ, the PGW weights and the
    teacher's channel attention) plus eq. 9, the channel-attention loss where the PGW weight is non-zero.

    Per level, with N images, C channels, H x W locations, sq = (s − t)², A / P the channel / spatial attention:

    - form='released' (the authors' code, the default):
      cls: w_l·Σ (α·M + β·N)·P_t·A_t·sq / N  +  δ·(Σ|A_s − A_t| / (N·H·W) + Σ|P_s − P_t| / N);
      reg: over the n_pos locations of the batch with importance I ≠ 0 (I the un-normalised PGW value, the guide's
      'importance'), w_l·γ·mean_pos(I · mean_c(A_t·sq))  +  δ·Σ_pos,c |A_s − A_t| / n_pos; 0 when n_pos = 0.
    - form='paper' (the normalisers eq. 5-9 print):
      cls: (w_l·Σ (α·M + β·N)·P_t·A_t·sq + δ·(Σ|P_s − P_t| / (H·W) + Σ|A_s − A_t| / (C·H·W))) / N;
      reg: (w_l·γ·Σ M·A_t·sq + δ·Σ_n Σ_{M_n ≠ 0, c}|A_s − A_t| / (C·count_n)) / N, M eq. 4's per-level-normalised I.

    The per-level weight w_l (``level_weights``) multiplies the feature term only, never the δ attention term.

    Args:
        branch: 'cls', 'reg' or 'neck'.
        alpha: α; β = beta_ratio·α and γ = gamma_ratio·α unless given.
        delta: δ, the attention-loss weight.
        tau: τ, the attention temperature.
        spatial_over: 'sum' computes P over Σ_k |F_k| as eq. 7 prints it; 'mean' over the channel mean, as the
            authors' code does (the sum at τ·C). With the sum and τ = 0.8, P is nearly one-hot at 64-256 channels
            and eq. 5 outweighs the detection loss by orders of magnitude: our tiny K ablation collapsed to 0.8 AP.
        level_weights: a weight per FPN level for the feature term (the authors' code: 1, 1.25, 1.5, 1.75, 2 for
            the cls branch; the text has none).
        form: 'released' or 'paper', the normalisers above.
    """

    def __init__(self, branch: str = 'cls', alpha: float = 0.08, beta: float | None = None,
                 gamma: float | None = None, delta: float = 0.0008, tau: float = 0.8,
                 level_weights: list[float] | None = None, beta_ratio: float = 0.5, gamma_ratio: float = 1.6,
                 spatial_over: str = 'mean', form: str = 'released'):
        super().__init__()
        if branch not in ('cls', 'reg', 'neck'):
            raise ReproError(f"PGDLoss branch is {branch!r}: choose cls, reg or neck")
        if spatial_over not in ('sum', 'mean'):
            raise ReproError(f"PGDLoss spatial_over is {spatial_over!r}: choose sum (the paper's text) or mean "
                             '(its code)')
        if form not in FORMS:
            raise ReproError(f"PGDLoss form is {form!r}: choose released (the authors' code) or paper (its text)")
        self.branch, self.alpha, self.delta, self.tau, self.spatial_over = branch, alpha, delta, tau, spatial_over
        self.form = form
        self.beta = beta_ratio * alpha if beta is None else beta
        self.gamma = gamma_ratio * alpha if gamma is None else gamma
        self.level_weights = level_weights

    def forward(self, student: list[Tensor], teacher: list[Tensor], fg: list[Tensor], bg: list[Tensor] | None = None,
                importance: list[Tensor] | None = None) -> Tensor:
        """student, teacher: per level (N, C, H, W); fg, bg: per level (N, H, W) masks M and N (eq. 4 and 5);
        importance: per level (N, H, W) un-normalised PGW values I (needed by the released reg form). A scalar."""
        if self.branch == 'reg' and self.form == 'released' and importance is None:
            raise ReproError("PGDLoss(branch='reg', form='released') weights by the un-normalised PGW importance: "
                             "use the prediction_guided guide, which hands it over as 'importance'")
        total = student[0].new_zeros(())
        for level, (s, t) in enumerate(zip(student, teacher)):
            weight = self.level_weights[level] if self.level_weights else 1.0
            if self.branch == 'reg':
                mask = importance[level] if self.form == 'released' else fg[level]
                feature, attention = self._reg(s, t.detach(), mask)
            else:
                feature, attention = self._cls(s, t.detach(), fg[level], bg[level])
            total = total + weight * feature + attention
        return total

    def _cls(self, s: Tensor, t: Tensor, fg: Tensor, bg: Tensor) -> tuple[Tensor, Tensor]:
        n, c, h, w = s.shape
        a_t, a_s = channel_attention(t, self.tau), channel_attention(s, self.tau)
        tau_p = self.tau * c if self.spatial_over == 'mean' else self.tau
        p_t, p_s = spatial_attention(t, tau_p), spatial_attention(s, tau_p)
        feature = ((self.alpha * fg + self.beta * bg)[:, None] * p_t[:, None] * a_t * (s - t) ** 2).sum() / n
        d_a, d_p = (a_s - a_t).abs().sum(), (p_s - p_t).abs().sum()
        if self.form == 'released':
            return feature, self.delta * (d_a / (n * h * w) + d_p / n)
        return feature, self.delta * (d_p / (h * w) + d_a / (c * h * w)) / n

    def _reg(self, s: Tensor, t: Tensor, weight: Tensor) -> tuple[Tensor, Tensor]:
        n, c = s.shape[:2]
        a_t, a_s = channel_attention(t, self.tau), channel_attention(s, self.tau)
        d_a = (a_s - a_t).abs()
        on = (weight != 0).to(s.dtype)                                   # (N, H, W)
        if self.form == 'released':  # pooled over the batch: n_pos locations with I ≠ 0
            n_pos = on.sum().clamp(min=1.0)
            feature = self.gamma * (weight * (a_t * (s - t) ** 2).mean(1)).sum() / n_pos
            return feature, self.delta * (on[:, None] * d_a).sum() / n_pos
        feature = self.gamma * (weight[:, None] * a_t * (s - t) ** 2).sum() / n
        per_image = (on[:, None] * d_a).sum((1, 2, 3)) / (c * on.sum((1, 2))).clamp(min=1.0)
        return feature, self.delta * per_image.sum() / n
