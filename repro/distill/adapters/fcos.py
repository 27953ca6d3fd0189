"""FCOS: anchor-free points, (left, top, right, bottom) distances, a per-level Scale and a centerness branch."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets


class FCOSAdapter(HeadAdapter):
    heads = ('FCOSHead',)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """FCOSHead's predictor convs, the level's Scale, then exp, or with norm_on_bbox a clamp at 0 (and,
        outside training, the stride), exactly as FCOSHead.forward_single.

        Args:
            cls_feat: (N, F, H, W) cls tower output.
            reg_feat: (N, F, H, W) reg tower output.
            level: FPN level index, picks `head.scales[level]` and `head.strides[level]`.

        Returns:
            'cls': (N, C, H, W) logits; 'reg': (N, 4, H, W) float32 distances (pixels, or strides when
            norm_on_bbox in training mode); 'centerness': (N, 1, H, W) logits.
        """
        head = self.head
        reg = head.scales[level](head.conv_reg(reg_feat)).float()
        if head.norm_on_bbox:
            reg = reg.clamp(min=0)
            if not head.training:
                reg = reg * head.strides[level]
        else:
            reg = reg.exp()
        centerness = head.conv_centerness(reg_feat if head.centerness_on_reg else cls_feat)
        return {'cls': head.conv_cls(cls_feat), 'reg': reg, 'centerness': centerness}

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes from distances to the point, in the head's current mode (the one `predict` ran in).

        Args:
            reg: (M, 4) distances as `predict` outputs them: in strides when norm_on_bbox and training (so they
                are scaled by the point's stride here, as the loss's targets are), else in pixels.
            priors: (M, 4) points (x, y, stride_w, stride_h).

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        if self.head.norm_on_bbox and self.head.training:
            reg = reg * priors[:, [2, 3, 2, 3]]
        return self.head.bbox_coder.decode(priors[:, :2], reg)

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """FCOSHead.get_targets on the grid points, as its loss_by_feat runs it.

        Args:
            outputs: the head's predictions; only the map sizes of `outputs.preds['cls']` are used.
            data_samples: list of N DetDataSample with `gt_instances`.

        Returns:
            Targets with valid = ones (N, L) (FCOS weighs every point in its cls loss), pos = labels in
            [0, num_classes) (N, L), num_pos = the number of positives reduce_mean'd and clamped at 1, and
            centerness_sum = the positives' centerness targets summed, reduce_mean'd and clamped at 1e-6, as
            FCOSHead.loss_by_feat normalises its box loss.
        """
        from mmdet.models.utils import unpack_gt_instances
        from mmdet.utils import reduce_mean
        maps = outputs.preds['cls']
        gts, _, _ = unpack_gt_instances(data_samples)
        points = self.head.prior_generator.grid_priors([m.shape[-2:] for m in maps],
                                                       dtype=outputs.preds['reg'][0].dtype, device=maps[0].device)
        labels, boxes = self.head.get_targets(points, gts)  # per level: (N * H*W,) and (N * H*W, 4), images concatenated
        labels = torch.cat([lvl.reshape(len(gts), -1) for lvl in labels], dim=1)
        boxes = torch.cat([lvl.reshape(len(gts), -1, 4) for lvl in boxes], dim=1)
        pos = (labels >= 0) & (labels < self.head.num_classes)
        num_pos = reduce_mean(pos.sum().float()).clamp(min=1)
        centerness_sum = reduce_mean(self.head.centerness_target(boxes[pos]).sum()).clamp(min=1e-6)
        return Targets(valid=torch.ones(labels.shape, device=labels.device), pos=pos, num_pos=num_pos,
                       centerness_sum=centerness_sum)
