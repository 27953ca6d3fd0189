"""Feature imitation with Pearson correlation (PKD, Cao et al., NeurIPS 2022)."""
import torch.nn.functional as F
from torch import Tensor, nn

from repro.distill.standardize import standardize


class PKDLoss(nn.Module):
    """MSE between per-channel standardised student and teacher features, halved (= 1 − Pearson r per channel).

    Unlike the prediction losses this returns a scalar per feature map: PKD is not a per-location loss.
    """

    def forward(self, student: Tensor, teacher: Tensor) -> Tensor:
        """student, teacher: features (N, C, H, W). Returns a scalar."""
        return F.mse_loss(standardize(student), standardize(teacher)) / 2
