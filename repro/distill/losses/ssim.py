"""SKD (de Rijk et al., NeurIPS 2022, "Structural Knowledge Distillation for Object Detection"): 1 - SSIM imitation."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from repro.distill.losses.fitnets import adaptation_or_check
from repro.errors import ReproError


def gaussian_window(size: int, sigma: float, like: Tensor) -> Tensor:
    """(size,) 1-D Gaussian weights summing to 1, centred on the middle tap."""
    offsets = torch.arange(size, dtype=like.dtype, device=like.device) - (size - 1) / 2
    weights = torch.exp(-offsets ** 2 / (2 * sigma ** 2))
    return weights / weights.sum()


def local_mean(x: Tensor, window: Tensor) -> Tensor:
    """Gaussian-weighted mean around every location of (N, C, H, W), per channel, with the window truncated at the
    map's border and renormalised to the part that lies inside (so maps smaller than the window work: P7 of a small
    image is 1 x 1; reflection padding, kornia's default, is undefined there)."""
    channels, pad = x.shape[1], window.numel() // 2
    rows = window.view(1, 1, -1, 1).expand(channels, 1, -1, 1)
    cols = window.view(1, 1, 1, -1).expand(channels, 1, 1, -1)

    def blur(t: Tensor) -> Tensor:
        t = F.conv2d(t, rows, padding=(pad, 0), groups=t.shape[1])
        return F.conv2d(t, cols, padding=(0, pad), groups=t.shape[1])

    mass = blur(torch.ones_like(x[:1]))  # the window's weight inside the map; the same for every image
    return blur(x) / mass


def minmax(x: Tensor, eps: float = 1e-6) -> Tensor:
    """Rescale each image's map (over C, H, W) to [0, 1]: SKD's ψ, which makes the dynamic range L = 1."""
    flat = x.flatten(1)
    low = flat.amin(dim=1).view(-1, 1, 1, 1)
    high = flat.amax(dim=1).view(-1, 1, 1, 1)
    return (x - low) / (high - low).clamp(min=eps)


def ssim_map(x: Tensor, y: Tensor, window: Tensor, c1: float, c2: float) -> Tensor:
    """SSIM (Wang et al., 2004) with α = β = γ = 1 and C3 = C2 / 2, at every location and channel: (N, C, H, W)."""
    mu_x, mu_y = local_mean(x, window), local_mean(y, window)
    var_x = local_mean(x * x, window) - mu_x ** 2
    var_y = local_mean(y * y, window) - mu_y ** 2
    cov = local_mean(x * y, window) - mu_x * mu_y
    luminance = (2 * mu_x * mu_y + c1) / (mu_x ** 2 + mu_y ** 2 + c1)
    return luminance * (2 * cov + c2) / (var_x + var_y + c2)


class SKDLoss(nn.Module):
    """SKD's structural imitation of FPN maps: Σ_levels mean over (N, C, H, W) of (1 − SSIM(ψ(r(s)), ψ(t))) / 2.

    SSIM is computed per channel over local Gaussian windows (11 x 11, σ = 1.5), K1 = 0.01, K2 = 0.03 and the dynamic
    range L = 1 that the min-max rescaling ψ (per image and level) gives; the paper halves 1 − SSIM (kornia's
    `ssim_loss`, which its authors name as the implementation) and averages each scale over its H·W·C elements
    before summing over the neck outputs. r is the paper's optional 1x1 adaptation conv.

    Args:
        student_channels, teacher_channels: FPN widths (filled in by the detector).
        adapt: use r; needed when the widths differ (the paper finds it does not matter for R101 -> R50 RetinaNet).
        window_size, sigma: the Gaussian window.
        k1, k2: SSIM's stabilisers, C1 = (k1·L)², C2 = (k2·L)².
    """

    def __init__(self, student_channels: int | None = None, teacher_channels: int | None = None, adapt: bool = False,
                 window_size: int = 11, sigma: float = 1.5, k1: float = 0.01, k2: float = 0.03):
        super().__init__()
        if window_size < 1 or window_size % 2 == 0 or sigma <= 0:
            raise ReproError(f'SKDLoss window_size is {window_size} and sigma {sigma}: use an odd size and sigma > 0')
        self.adapt = adaptation_or_check(adapt, student_channels, teacher_channels, 1, 0, 'SKDLoss')
        self.window_size, self.sigma = window_size, sigma
        self.c1, self.c2 = k1 ** 2, k2 ** 2  # L = 1 after min-max

    def forward(self, student: list[Tensor], teacher: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W). Returns a scalar."""
        if self.adapt is not None:
            student = self.adapt(student)
        total = student[0].new_zeros(())
        for s, t in zip(student, teacher):
            window = gaussian_window(self.window_size, self.sigma, s)
            similarity = ssim_map(minmax(s), minmax(t.detach()), window, self.c1, self.c2)
            total = total + ((1 - similarity) / 2).mean()
        return total

