"""Localization distillation on GFL's edge distributions (LD, Zheng et al., CVPR 2022)."""
import torch.nn.functional as F
from torch import Tensor, nn


class DistributionKLKD(nn.Module):
    """KL(softmax(target / T) ‖ softmax(pred / T)) · T², summed over the 4 box edges.

    Args:
        T: temperature; CrossKD uses 1, mmdet's LD 10.
    """

    def __init__(self, T: float = 1.0):
        super().__init__()
        self.T = T

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: edge-distribution logits (M, 4 * (reg_max + 1)). Returns (M,)."""
        m = pred.shape[0]
        log_p = F.log_softmax(pred.reshape(m, 4, -1) / self.T, dim=-1)
        q = F.softmax(target.reshape(m, 4, -1) / self.T, dim=-1)
        return F.kl_div(log_p, q, reduction='none').sum(dim=(1, 2)) * self.T ** 2
