"""GFL: one square anchor per location, boxes as distributions over distances {0..reg_max} in stride units."""
from __future__ import annotations

from torch import Tensor

from repro.distill.adapters.atss import ATSSAdapter


class GFLAdapter(ATSSAdapter):
    """Targets are ATSS's (GFLHead.get_targets has the same form, and the same avg_factor convention)."""

    cls_conv, reg_conv, centerness_conv = 'gfl_cls', 'gfl_reg', None
    heads = ('GFLHead',)

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Expected distances (softmax integral) times the anchor's stride, then boxes from the anchor center.

        Args:
            reg: (M, 4*(reg_max+1)) distribution logits.
            priors: (M, 4) anchors, x1y1x2y2 pixels; each anchor's stride is recovered from its size.

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        head = self.head
        distances = head.integral(reg) * self.anchor_strides(priors)[:, None]
        return head.bbox_coder.decode(head.anchor_center(priors), distances)
