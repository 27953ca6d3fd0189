"""AutoAssign: FCOS's layout (points, (left, top, right, bottom) distances, a per-level Scale) with points at the
stride multiples (offset 0), distances always in pixels, and an implicit-objectness branch on the reg tower.

The objectness logits are exposed under the 'centerness' key: a one-channel map from the reg tower whose sigmoid
multiplies the class score (in AutoAssign's loss and at test time), the role FCOS's centerness plays, and the key
through which DistillDetector hands the third prediction to the head's loss_by_feat.

AutoAssign has no hard assignment: every point of a box's candidate set is weighed softly as positive and negative.
`targets` therefore calls that candidate set positive (see AutoAssignAdapter.targets).
"""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets


class AutoAssignAdapter(HeadAdapter):
    heads = ('AutoAssignHead',)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """AutoAssignHead's predictor convs, the level's Scale, a clamp at 0 and the stride, in training and
        evaluation alike, exactly as AutoAssignHead.forward_single.

        Args:
            cls_feat: (N, F, H, W) cls tower output.
            reg_feat: (N, F, H, W) reg tower output.
            level: FPN level index, picks `head.scales[level]` and `head.strides[level]`.

        Returns:
            'cls': (N, C, H, W) logits; 'reg': (N, 4, H, W) float32 distances in pixels; 'centerness':
            (N, 1, H, W) implicit-objectness logits.
        """
        head = self.head
        reg = head.scales[level](head.conv_reg(reg_feat)).float().clamp(min=0) * head.strides[level]
        return {'cls': head.conv_cls(cls_feat), 'reg': reg, 'centerness': head.conv_centerness(reg_feat)}

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes from pixel distances to the point, with the head's distance coder (in any mode).

        Args:
            reg: (M, 4) (left, top, right, bottom) distances in pixels, as `predict` outputs them.
            priors: (M, 4) points (x, y, stride_w, stride_h).

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        return self.head.bbox_coder.decode(priors[:, :2], reg)

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """AutoAssign's candidate set as the positives: points strictly inside a GT box (AutoAssignHead.get_targets),
        plus, with force_topk, the center prior's top-k points of a box that contains no point.

        These are the points the head's positive loss weighs (its center prior is zero elsewhere) and where its
        negative loss is down-weighted; AutoAssign itself has no hard labels, label weights or positive count.

        Args:
            outputs: the head's predictions; only the map sizes of `outputs.preds['cls']` are used.
            data_samples: list of N DetDataSample with `gt_instances`.

        Returns:
            Targets with valid = ones (N, L) (every point enters the negative loss), pos = in a box's candidate
            set (N, L), num_pos = the number of positives reduce_mean'd and clamped at 1 (as FCOS's).
        """
        from mmdet.models.utils import unpack_gt_instances
        from mmdet.utils import reduce_mean
        head = self.head
        maps = outputs.preds['cls']
        gts, _, _ = unpack_gt_instances(data_samples)
        points = head.prior_generator.grid_priors([m.shape[-2:] for m in maps],
                                                  dtype=outputs.preds['reg'][0].dtype, device=maps[0].device)
        inside, _ = head.get_targets(points, gts)  # per image: (L, num_gt) bool
        # the center prior adds force_topk's points for boxes that contain none; its weights are not needed
        pos = torch.stack([head.center_prior(points, gt, mask)[1].any(dim=1) for gt, mask in zip(gts, inside)])
        num_pos = reduce_mean(pos.sum().float()).clamp(min=1)
        return Targets(valid=torch.ones(pos.shape, device=pos.device), pos=pos, num_pos=num_pos)
