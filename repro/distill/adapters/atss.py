"""ATSS: RetinaNet's deltas on one anchor per location, a per-level Scale, and a centerness branch."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.retina import RetinaAdapter


class ATSSAdapter(RetinaAdapter):
    """Decoding is RetinaNet's (the head's delta coder); targets are ATSSHead.get_targets'."""

    cls_conv, reg_conv, centerness_conv, scaled = 'atss_cls', 'atss_reg', 'atss_centerness', True
    heads = ('ATSSHead',)

    def _assign(self, anchors, flags, gts, metas, ignores) -> tuple[list[Tensor], list[Tensor], Tensor]:
        """ATSS/GFL get_targets (anchors come first) and their avg_factor, reduce_mean'd over processes."""
        from mmdet.utils import reduce_mean
        _, labels, weights, _, _, avg_factor = self.head.get_targets(
            anchors, flags, gts, metas, batch_gt_instances_ignore=ignores)
        return labels, weights, reduce_mean(torch.tensor(float(avg_factor), device=labels[0].device))
