"""FKD: Zhang & Ma, "Improve Object Detection with Feature-based Knowledge Distillation", ICLR 2021."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from repro.distill.losses.fgd import global_channel_attention, mean_spatial_attention
from repro.errors import ReproError


class NonLocalBlock(nn.Module):
    """Dot-product non-local block (Wang et al., 2018) as FKD uses it: z = x + W(Σ_j (θ(x_i)·φ(x_j) / N_p) g(x_j)).

    φ and g are max-pooled by `pool` (ceil mode, so 1x1 maps work) to save memory; W is a 1x1 conv and a BatchNorm
    whose scale starts at 0, so the block starts as the identity.
    """

    def __init__(self, channels: int, inter_channels: int | None = None, pool: int = 2):
        super().__init__()
        inter = inter_channels or max(channels // 2, 1)
        self.theta = nn.Conv2d(channels, inter, kernel_size=1)
        self.phi = nn.Sequential(nn.Conv2d(channels, inter, kernel_size=1), nn.MaxPool2d(pool, ceil_mode=True))
        self.g = nn.Sequential(nn.Conv2d(channels, inter, kernel_size=1), nn.MaxPool2d(pool, ceil_mode=True))
        self.out = nn.Sequential(nn.Conv2d(inter, channels, kernel_size=1), nn.BatchNorm2d(channels))
        nn.init.zeros_(self.out[1].weight)
        nn.init.zeros_(self.out[1].bias)

    def forward(self, x: Tensor) -> Tensor:
        n, _, h, w = x.shape
        theta = self.theta(x).flatten(2).transpose(1, 2)                  # (N, HW, I)
        phi, g = self.phi(x).flatten(2), self.g(x).flatten(2).transpose(1, 2)  # (N, I, P), (N, P, I)
        y = torch.bmm(torch.bmm(theta, phi) / phi.shape[-1], g)           # (N, HW, I)
        return x + self.out(y.transpose(1, 2).reshape(n, -1, h, w))


class FKDLoss(nn.Module):
    """FKD on the FPN maps, summed over levels:

        α · (Σ (F_t − a(F_s))² · M^S · M^C)^½                                         (attention-guided, L_AM)
      + β · (‖G^S(F_t) − a_s(G^S(F_s))‖₂ + ‖G^C(F_t) − a_c(G^C(F_s))‖₂)             (attention transfer, L_AT)
      + γ · ‖r_t(F_t) − a_r(r_s(F_s))‖₂                                               (non-local, L_NLD)

    M^S = (A^S(F_t) + A^S(F_s)) / 2 and M^C likewise: the spatial (H·W·softmax of the channel-mean |F| / T) and
    channel (C·softmax of the location-mean |F| / T) attention of teacher and student, averaged and detached; the
    sums and norms run over the whole batch. G^S, G^C are the mean |F| over channels and over locations. a is a
    1x1 conv, a_s a 3x3 conv, a_c a linear layer, a_r a 1x1 conv; r_t, r_s are trainable non-local blocks. All
    are per FPN level and trained by this loss only, as in the authors' code.

    The structure and the defaults follow the authors' released single-stage detector: T = 0.1 for both masks,
    weights 7e-5·6, 4e-3·6 and 7e-5·6, non-local blocks with 64 inner channels and 8x / 4x pooling on the two
    finest levels and C/2 channels with 2x pooling on the others. That code's attention-transfer terms compare the
    signed means of F (some copies of it take |F| for the channel term); we compare the means of |F|, the
    attention maps that the masks are made from.

    Args:
        student_channels, teacher_channels: FPN widths (set by the detector).
        temperature: T of both masks.
        alpha, beta, gamma: the weights of L_AM, L_AT and L_NLD.
        num_levels: FPN levels.
        nonlocal_inter: inner width of each level's non-local blocks (None: half the width).
        nonlocal_pool: max-pool factor of each level's non-local blocks.
    """

    def __init__(self, student_channels: int = 256, teacher_channels: int = 256, temperature: float = 0.1,
                 alpha: float = 7e-5 * 6, beta: float = 4e-3 * 6, gamma: float = 7e-5 * 6, num_levels: int = 5,
                 nonlocal_inter: tuple = (64, 64, None, None, None), nonlocal_pool: tuple = (8, 4, 2, 2, 2)):
        super().__init__()
        if temperature <= 0:
            raise ReproError(f'FKDLoss temperature is {temperature}: it must be > 0')
        if not len(nonlocal_inter) == len(nonlocal_pool) == num_levels:
            raise ReproError(f'FKDLoss nonlocal_inter and nonlocal_pool need one entry per level ({num_levels})')
        self.temperature, self.alpha, self.beta, self.gamma = temperature, alpha, beta, gamma
        self.num_levels = num_levels
        s, t = student_channels, teacher_channels
        self.adapt = nn.ModuleList(nn.Conv2d(s, t, kernel_size=1) for _ in range(num_levels))
        self.adapt_spatial = nn.ModuleList(nn.Conv2d(1, 1, kernel_size=3, padding=1) for _ in range(num_levels))
        self.adapt_channel = nn.ModuleList(nn.Linear(s, t) for _ in range(num_levels))
        self.nonlocal_s = nn.ModuleList(NonLocalBlock(s, i, p) for i, p in zip(nonlocal_inter, nonlocal_pool))
        self.nonlocal_t = nn.ModuleList(NonLocalBlock(t, i, p) for i, p in zip(nonlocal_inter, nonlocal_pool))
        self.adapt_nonlocal = nn.ModuleList(nn.Conv2d(s, t, kernel_size=1) for _ in range(num_levels))

    def forward(self, student: list[Tensor], teacher: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W). Returns a scalar."""
        if len(student) != self.num_levels:
            raise ReproError(f'FKDLoss got {len(student)} FPN levels but was built for num_levels={self.num_levels}')
        total = student[0].new_zeros(())
        for level, (s, t) in enumerate(zip(student, teacher)):
            total = total + self._level(level, s, t.detach())
        return total

    def _level(self, level: int, s: Tensor, t: Tensor) -> Tensor:
        temp, adapted = self.temperature, self.adapt[level](s)
        with torch.no_grad():
            own = s if s.shape[1] == t.shape[1] else adapted  # the authors' masks use the raw student (equal widths)
            spatial = (mean_spatial_attention(t, temp) + mean_spatial_attention(own, temp)) / 2      # (N, H, W)
            channel = (global_channel_attention(t, temp) + global_channel_attention(own, temp)) / 2  # (N, C)
        diff = (t - adapted) ** 2 * spatial[:, None] * channel[:, :, None, None]
        guided = diff.sum().clamp(min=1e-12).sqrt()  # clamped: the square root's gradient is infinite at 0
        spatial_s = self.adapt_spatial[level](s.abs().mean(1, keepdim=True))
        channel_s = self.adapt_channel[level](s.abs().mean((2, 3)))
        transfer = torch.dist(t.abs().mean(1, keepdim=True), spatial_s) + torch.dist(t.abs().mean((2, 3)), channel_s)
        relation = torch.dist(self.nonlocal_t[level](t), self.adapt_nonlocal[level](self.nonlocal_s[level](s)))
        return self.alpha * guided + self.beta * transfer + self.gamma * relation
