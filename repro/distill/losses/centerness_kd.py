"""Centerness KD for ATSS/FCOS: BCE against the teacher's centerness probability."""
import torch.nn.functional as F
from torch import Tensor, nn


class CenternessKD(nn.Module):
    """BCE(σ(pred), σ(target)) per location."""

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: centerness logits (M,) or (M, 1). Returns (M,)."""
        return F.binary_cross_entropy_with_logits(pred, target.sigmoid(), reduction='none').reshape(len(pred), -1).sum(1)
