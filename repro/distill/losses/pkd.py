"""Feature imitation with Pearson correlation (PKD, Cao et al., NeurIPS 2022)."""
import torch.nn.functional as F
from torch import Tensor, nn

from repro.distill.standardize import standardize


class PKDLoss(nn.Module):
    """MSE between per-channel standardised student and teacher features, halved (= 1 − Pearson r per channel).

    Like every feature loss it takes the per-level lists and returns a scalar: the sum over levels.
    """

    def forward(self, student: list[Tensor], teacher: list[Tensor]) -> Tensor:
        """student, teacher: per level, features (N, C, H, W). Returns a scalar."""
        return sum(F.mse_loss(standardize(s), standardize(t)) / 2 for s, t in zip(student, teacher))
