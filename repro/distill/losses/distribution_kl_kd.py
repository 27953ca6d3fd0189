"""KL distillation of GFL's edge distributions (as in LD, Zheng et al., CVPR 2022, and CrossKD's GFL regression KD)."""
import torch.nn.functional as F
from torch import Tensor, nn

from repro.errors import ReproError


class DistributionKLKD(nn.Module):
    """Per location: KL(softmax(target / T) ‖ softmax(pred / T)) · T², summed over each edge's bins, then averaged
    (edges='mean') or summed (edges='sum') over the 4 box edges.

    CrossKD's released GFL regression KD calls mmdet's KL loss with class_reduction='sum' on (4M, reg_max + 1) edge
    rows, each weighted by its location's weight, with avg_factor=4: the mean over the 4 edges (the default here).

    Args:
        T: temperature; CrossKD uses 1, mmdet's LD 10.
        edges: 'mean' or 'sum' over the 4 edges.
    """

    def __init__(self, T: float = 1.0, edges: str = 'mean'):
        super().__init__()
        if edges not in ('mean', 'sum'):
            raise ReproError(f"DistributionKLKD edges is {edges!r}: choose mean or sum")
        self.T, self.edges = T, edges

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: edge-distribution logits (M, 4 * (reg_max + 1)). Returns (M,)."""
        m = pred.shape[0]
        log_p = F.log_softmax(pred.reshape(m, 4, -1) / self.T, dim=-1)
        q = F.softmax(target.reshape(m, 4, -1) / self.T, dim=-1)
        per_edge = F.kl_div(log_p, q, reduction='none').sum(dim=-1) * self.T ** 2  # (M, 4)
        return per_edge.mean(dim=1) if self.edges == 'mean' else per_edge.sum(dim=1)
