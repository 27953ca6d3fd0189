"""Regression KD on decoded boxes: GIoU (Rezatofighi et al., CVPR 2019) or IoU, teacher boxes as targets."""
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
        from mmdet.structures.bbox import bbox_overlaps
        if self.mode == 'giou':
            return 1 - bbox_overlaps(pred, target, mode='giou', is_aligned=True, eps=self.eps)
        iou = bbox_overlaps(pred, target, mode='iou', is_aligned=True, eps=self.eps)
        return -iou.clamp(min=self.eps).log() if self.mode == 'iou' else 1 - iou
