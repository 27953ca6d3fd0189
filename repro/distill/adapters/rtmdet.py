"""RTMDet: anchor-free points (offset 0, x, y, stride, stride), (left, top, right, bottom) distances in pixels, and
quality-aware classification (QFL against the IoU of the dynamic soft-label assignment).

Two heads: RTMDetHead (one tower for every level, a per-level Scale, exp on the distances) and RTMDetSepBNHead (the
RTMDet configs' head: a tower per level whose convs are shared across levels and whose BNs are not, per-level
predictor convs, no Scale, exp only with `exp_on_reg`). With `with_objectness` the objectness logit of the reg tower
is folded into the class logit (inverse sigmoid of the geometric mean), as the head does; the RTMDet configs switch
it off. Depthwise-separable towers (`use_depthwise`) are refused: their ConvModule pair has no single pre-activation
feature.

The dynamic soft-label assigner ranks priors by the head's own (detached) predictions, so `targets` runs
`get_targets` on the predictions in `outputs`, exactly as loss_by_feat builds its arguments; within a training step
HeadAdapter.shared_assignment answers it from the detection loss's call when the predictions are the same.
"""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets
from repro.errors import ReproError


class RTMDetAdapter(HeadAdapter):
    heads = ('RTMDetHead', 'RTMDetSepBNHead')

    def __init__(self, head):
        if getattr(head, 'use_depthwise', False):
            raise ReproError(f'{type(head).__name__} with use_depthwise=True is not supported for distillation: its '
                             'depthwise-separable tower layers have no single pre-activation feature; set '
                             'use_depthwise=False')
        super().__init__(head)
        self.separate = type(head).__name__ == 'RTMDetSepBNHead'

    def tower(self, branch: str, level: int = 0):
        towers = {'cls': self.head.cls_convs, 'reg': self.head.reg_convs}[branch]
        return towers[level] if self.separate else towers

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """The head's predictor convs (the level's own for the SepBN head), objectness folded into the class logit
        where the head has it, and the distances as its forward computes them.

        Args:
            cls_feat: (N, F, H, W) cls tower output.
            reg_feat: (N, F, H, W) reg tower output.
            level: FPN level index: picks the level's predictors (SepBN), Scale (RTMDetHead) and stride.

        Returns:
            'cls': (N, C, H, W) logits; 'reg': (N, 4, H, W) (left, top, right, bottom) distances in pixels.
        """
        from mmdet.models.layers.transformer import inverse_sigmoid
        from mmdet.models.utils import sigmoid_geometric_mean
        head = self.head
        stride = head.prior_generator.strides[level][0]
        pick = (lambda m: m[level]) if self.separate else (lambda m: m)
        cls = pick(head.rtm_cls)(cls_feat)
        if head.with_objectness:
            cls = inverse_sigmoid(sigmoid_geometric_mean(cls, pick(head.rtm_obj)(reg_feat)))
        if self.separate:
            reg = pick(head.rtm_reg)(reg_feat)
            reg = (reg.exp() if head.exp_on_reg else reg) * stride
        else:
            reg = head.scales[level](head.rtm_reg(reg_feat).exp()).float() * stride
        return {'cls': cls, 'reg': reg}

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes from pixel distances to the point (distance2bbox, as loss_by_feat decodes), in any mode.

        Args:
            reg: (M, 4) (left, top, right, bottom) distances in pixels, as `predict` outputs them.
            priors: (M, 4) points (x, y, stride_w, stride_h).

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        from mmdet.structures.bbox import distance2bbox
        return distance2bbox(priors[:, :2], reg)

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """get_anchors, then get_targets on the flattened class logits and decoded boxes, as loss_by_feat runs them.

        Args:
            outputs: the head's predictions ('cls' and 'reg': the assigner ranks by them).
            data_samples: list of N DetDataSample with `gt_instances` and image metainfo.

        Returns:
            Targets with valid = the label weights (N, L), pos = labels in [0, num_classes) (N, L), and num_pos =
            the number of positives, reduce_mean'd over processes and clamped at 1. RTMDet's own cls and box losses
            divide by the positives' summed assignment IoUs instead; the KD terms' 'num_pos' counts them, as for GFL
            (FIDELITY.md, RTMDet).
        """
        from mmdet.models.utils import unpack_gt_instances
        from mmdet.structures.bbox import distance2bbox
        from mmdet.utils import reduce_mean
        head = self.head
        cls_maps, reg_maps = outputs.preds['cls'], outputs.preds['reg']
        n = cls_maps[0].shape[0]
        gts, ignores, metas = unpack_gt_instances(data_samples)
        anchors, flags = head.get_anchors([m.shape[-2:] for m in cls_maps], metas, device=cls_maps[0].device)
        scores = torch.cat([m.permute(0, 2, 3, 1).reshape(n, -1, head.cls_out_channels) for m in cls_maps], 1)
        boxes = torch.cat([distance2bbox(a.reshape(-1, 4), r.permute(0, 2, 3, 1).reshape(n, -1, 4))
                           for a, r in zip(anchors[0], reg_maps)], 1)
        _, labels, weights, _, _, _ = head.get_targets(scores, boxes, anchors, flags, gts, metas,
                                                       batch_gt_instances_ignore=ignores)
        labels, weights = torch.cat(labels, dim=1), torch.cat(weights, dim=1)  # per-level (N, L_l) -> (N, L)
        pos = (labels >= 0) & (labels < head.num_classes)
        num_pos = reduce_mean(pos.sum().float()).clamp(min=1)
        return Targets(valid=weights, pos=pos, num_pos=num_pos)
