"""Classification KD with the teacher's scores as soft labels (QFL, Li et al., Generalized Focal Loss, 2020)."""
import torch.nn.functional as F
from torch import Tensor, nn


class QualityFocalKD(nn.Module):
    """Sum over classes of BCE(σ(pred), σ(target)) · |σ(pred) − σ(target)|^beta; beta = 0 gives plain BCE.

    Args:
        beta: modulating exponent; CrossKD uses 1.
    """

    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = beta

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: logits (M, C). Returns (M,)."""
        soft = target.sigmoid()
        loss = F.binary_cross_entropy_with_logits(pred, soft, reduction='none')
        if self.beta:
            loss = loss * (pred.sigmoid() - soft).abs().pow(self.beta)
        return loss.sum(dim=-1)
