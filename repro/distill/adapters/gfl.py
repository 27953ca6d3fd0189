"""GFL: one square anchor per location, boxes as distributions over distances {0..reg_max} in stride units."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.atss import ATSSAdapter


class GFLAdapter(ATSSAdapter):
    """Targets are ATSS's (GFLHead.get_targets has the same form, and the same avg_factor convention)."""

    cls_conv, reg_conv, centerness_conv = 'gfl_cls', 'gfl_reg', None
    heads = ('GFLHead',)

    def __init__(self, head):
        super().__init__(head)
        self._sizes: dict = {}  # (device, dtype) -> the levels' base anchor widths and strides

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Expected distances (softmax integral) times the anchor's stride, then boxes from the anchor center.

        Args:
            reg: (M, 4*(reg_max+1)) distribution logits.
            priors: (M, 4) anchors, x1y1x2y2 pixels; each anchor's stride is recovered from its size.

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        head = self.head
        distances = head.integral(reg) * self._strides(priors)[:, None]
        return head.bbox_coder.decode(head.anchor_center(priors), distances)

    def _level_sizes(self, device, dtype) -> tuple[Tensor, Tensor]:
        """(base anchor width, stride) of each level, built once per device and dtype (decode runs every step)."""
        key = (device, dtype)
        cache = self._sizes
        if key not in cache:
            generator = self.head.prior_generator
            widths = [float(b[0, 2] - b[0, 0]) for b in generator.base_anchors]
            strides = [float(s[0]) for s in generator.strides]
            cache[key] = (torch.tensor(widths, device=device, dtype=dtype),
                          torch.tensor(strides, device=device, dtype=dtype))
        return cache[key]

    def _strides(self, anchors: Tensor) -> Tensor:
        """(M,) stride of each anchor: that of the level whose base anchor has the same width."""
        widths, strides = self._level_sizes(anchors.device, anchors.dtype)
        level = ((anchors[:, 2] - anchors[:, 0])[:, None] - widths).abs().argmin(dim=1)
        return strides[level]
