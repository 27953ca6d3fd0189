"""Regression KD on decoded boxes: GIoU (Rezatofighi et al., CVPR 2019) or IoU, teacher boxes as targets."""
import torch
from torch import Tensor, nn


class BoxIoUKD(nn.Module):
    """1 − GIoU (mode 'giou'), −log IoU (mode 'iou', as mmdet's IoULoss) or 1 − IoU (mode 'linear_iou').

    Args:
        mode: 'giou', 'iou' or 'linear_iou'.
        eps: floor of IoU and of the union and enclosing areas.
    """

    def __init__(self, mode: str = 'giou', eps: float = 1e-6):
        super().__init__()
        assert mode in ('giou', 'iou', 'linear_iou'), mode
        self.mode, self.eps = mode, eps

    def forward(self, pred: Tensor, target: Tensor) -> Tensor:
        """pred, target: boxes (M, 4) as x1, y1, x2, y2. Returns (M,)."""
        lt = torch.max(pred[:, :2], target[:, :2])
        rb = torch.min(pred[:, 2:], target[:, 2:])
        inter = (rb - lt).clamp(min=0).prod(dim=1)
        area_p = (pred[:, 2:] - pred[:, :2]).clamp(min=0).prod(dim=1)
        area_t = (target[:, 2:] - target[:, :2]).clamp(min=0).prod(dim=1)
        union = (area_p + area_t - inter).clamp(min=self.eps)
        iou = inter / union
        if self.mode == 'iou':
            return -iou.clamp(min=self.eps).log()
        if self.mode == 'linear_iou':
            return 1 - iou
        enclose = (torch.max(pred[:, 2:], target[:, 2:]) - torch.min(pred[:, :2], target[:, :2])).prod(dim=1)
        enclose = enclose.clamp(min=self.eps)
        return 1 - (iou - (enclose - union) / enclose)
