"""ATSS: RetinaNet's deltas on one anchor per location, a per-level Scale, and a centerness branch."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters import register
from repro.distill.adapters.retina import RetinaAdapter


@register
class ATSSAdapter(RetinaAdapter):
    """Decoding is RetinaNet's (the head's delta coder); targets are ATSSHead.get_targets'."""

    heads = ('ATSSHead',)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """ATSSHead's predictor convs and the level's Scale on the deltas.

        Args:
            cls_feat: (N, F, H, W) cls tower output.
            reg_feat: (N, F, H, W) reg tower output.
            level: FPN level index, picks `head.scales[level]`.

        Returns:
            'cls': (N, A*C, H, W) logits; 'reg': (N, A*4, H, W) float32 deltas (no exp, as ATSS does);
            'centerness': (N, A, H, W) logits, from the reg tower.
        """
        head = self.head
        return {'cls': head.atss_cls(cls_feat),
                'reg': head.scales[level](head.atss_reg(reg_feat)).float(),
                'centerness': head.atss_centerness(reg_feat)}

    def _assign(self, anchors, flags, gts, metas, ignores) -> tuple[list[Tensor], list[Tensor], Tensor]:
        """ATSS/GFL get_targets (anchors come first) and their avg_factor, reduce_mean'd over processes."""
        from mmdet.utils import reduce_mean
        _, labels, weights, _, _, avg_factor = self.head.get_targets(
            anchors, flags, gts, metas, batch_gt_instances_ignore=ignores)
        return labels, weights, reduce_mean(torch.tensor(float(avg_factor), device=labels[0].device))
