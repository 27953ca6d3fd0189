"""Per-channel standardisation over batch and space: shared by PKD and CrossKD's feature re-normalisation."""
from torch import Tensor


def channel_stats(x: Tensor, eps: float = 1e-6) -> tuple[Tensor, Tensor]:
    """Mean and std of each channel over (N, H, W): two (1, C, 1, 1) tensors."""
    mean = x.mean(dim=(0, 2, 3), keepdim=True)
    std = x.std(dim=(0, 2, 3), keepdim=True) + eps
    return mean, std


def standardize(x: Tensor) -> Tensor:
    """x (N, C, H, W) with every channel at zero mean and unit std over (N, H, W)."""
    mean, std = channel_stats(x)
    return (x - mean) / std


def match_stats(x: Tensor, reference: Tensor) -> Tensor:
    """x re-normalised to the per-channel mean and std of `reference` (same channel count)."""
    mean, std = channel_stats(reference)
    return standardize(x) * std + mean
