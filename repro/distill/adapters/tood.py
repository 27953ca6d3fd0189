"""TOOD: one shared stack `inter_convs` whose outputs, concatenated, feed two task-decomposition modules and the
alignment branches; one square anchor per location; predictions are aligned scores and boxes in stride units.

No paper defines KD on TOOD; this adapter is our extension (FIDELITY.md, TOOD). The stack is shared by both
branches and its decomposition reads every layer's output, so only two positions have a counterpart in another
head: layer 0 = the FPN map, layer 1 = the whole stack's output, i.e. the concatenation of the n inter_convs'
pre-activation outputs (conv + norm), (N, n*feat_channels, H, W). `num_layers` is 1; the stack's inner layers are
not positions. Both branches keep that same concatenation.

Predictions: 'cls' = the logit of the aligned score sigmoid_geometric_mean(class logit, cls_prob) that
TOODHead.forward returns as a probability (every KD loss here takes logits; `loss_inputs` hands the head's loss
the probability back), 'reg' = the head's boxes (x1, y1, x2, y2) / stride after the deformable resampling.

`targets` runs `get_targets` on the predictions as loss_by_feat does: ATSS for `initial_epoch` epochs, then the
TaskAlignedAssigner on the (detached) predictions; the epoch is read from mmengine's MessageHub by the head itself.
Within a step HeadAdapter.shared_assignment answers it from the detection loss's call when the predictions are the
same; outside a Runner (no epoch in the MessageHub) it supplies epoch 0 for the block.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor

from repro.distill.adapters.base import BRANCHES, HeadAdapter, HeadOutputs, Targets


def aligned_logit(cls_logits: Tensor, cls_prob: Tensor) -> Tensor:
    """logit(sqrt(σ(a)·σ(b))), elementwise, without forming the probability: log p − log(1 − p) with
    log p = (logsigmoid(a) + logsigmoid(b)) / 2 and 1 − p = −expm1(log p). log p is kept below −tiny so that a
    saturated score gives a large finite logit (about 87 in float32), not inf."""
    log_p = 0.5 * (F.logsigmoid(cls_logits) + F.logsigmoid(cls_prob))
    log_p = log_p.clamp(max=-torch.finfo(log_p.dtype).tiny)
    return log_p - torch.log(-torch.expm1(log_p))


class TOODAdapter(HeadAdapter):
    heads = ('TOODHead',)

    @property
    def num_layers(self) -> int:
        return 1  # the FPN map (0) and the whole stack's output (1); no inner layer is a position

    def tower(self, branch: str, level: int = 0):
        """The shared stack `inter_convs`, for either branch."""
        return self.head.inter_convs

    def width(self, layer: int) -> int:
        """The FPN width at layer 0; the concatenated stack output's, stacked_convs * feat_channels, at layer 1."""
        head = self.head
        return head.in_channels if layer == 0 else head.stacked_convs * head.feat_channels

    def activate(self, layer: int, x: Tensor) -> Tensor:
        """The stack's activation on a (concatenated) layer-1 feature; identity at layer 0. Every inter_conv has the
        same elementwise activation, so activating the concatenation is concatenating the activated maps."""
        if layer == 0:
            return x
        return self._activate(self.head.inter_convs[-1], x)

    def _stack(self, x: Tensor) -> Tensor:
        """(N, n*feat_channels, H, W): the inter_convs' pre-activation outputs on the FPN map `x`, concatenated."""
        outputs = []
        for conv in self.head.inter_convs:
            y = conv(x, activate=False)
            outputs.append(y)
            x = self._activate(conv, y)  # out of place: the kept output stays pre-activation
        return torch.cat(outputs, dim=1)

    def run_from(self, branch: str, x: Tensor, layer: int, level: int = 0) -> Tensor:
        """The activated stack output (N, n*feat_channels, H, W) from a layer-`layer` feature: the whole stack on an
        FPN map (layer 0), the activation on a stack output (layer 1)."""
        return self.activate(1, self._stack(x) if layer == 0 else x)

    def forward(self, feats: list[Tensor], layer: int) -> HeadOutputs:
        """The whole head on FPN features, the stack run once per level (it is shared by both branches); both
        branches keep the FPN map (layer 0) or the pre-activation stack output (layer 1)."""
        preds: dict[str, list[Tensor]] = {}
        kept: dict[str, list[Tensor]] = {b: [] for b in BRANCHES}
        for level, x in enumerate(feats):
            stacked = self._stack(x)
            for branch in BRANCHES:
                kept[branch].append(x if layer == 0 else stacked)
            feat = self.activate(1, stacked)
            for name, value in self.predict(feat, feat, level).items():
                preds.setdefault(name, []).append(value)
        return HeadOutputs(preds, kept, layer)

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """Task decomposition, predictors, alignment and the level's Scale, as TOODHead.forward, on one branch's
        activated stack output each (equal for the head's own features; they differ after distill.adapt's per-branch
        1x1 kd_adapters).

        Args:
            cls_feat: (N, n*F, H, W) activated stack output for the cls side (decomposition and cls_prob).
            reg_feat: (N, n*F, H, W) the same for the reg side (decomposition and the resampling offsets).
            level: FPN level index: picks the Scale, the anchors and the stride.

        Returns:
            'cls': (N, C, H, W) logits of the aligned score; 'reg': (N, 4, H, W) boxes x1y1x2y2 in units of the
            level's stride, after deform_sampling (the unsampled box where sampling inverts a corner pair).
        """
        head = self.head
        stride = head.prior_generator.strides[level][0]
        cls_logits = head.tood_cls(head.cls_decomp(cls_feat, F.adaptive_avg_pool2d(cls_feat, (1, 1))))
        cls = aligned_logit(cls_logits, head.cls_prob_module(cls_feat))
        reg = head.tood_reg(head.reg_decomp(reg_feat, F.adaptive_avg_pool2d(reg_feat, (1, 1))))
        n, _, h, w = reg.shape
        anchors = head.prior_generator.single_level_grid_priors((h, w), level, device=reg.device).repeat(n, 1)
        if head.anchor_type == 'anchor_free':
            from mmdet.structures.bbox import distance2bbox
            dist = head.scales[level](reg.exp()).float().permute(0, 2, 3, 1).reshape(-1, 4)
            boxes = distance2bbox(head.anchor_center(anchors) / stride, dist)
        else:  # deltas from the anchor, decoded in pixels, then in strides
            deltas = head.scales[level](reg).float().permute(0, 2, 3, 1).reshape(-1, 4)
            boxes = head.bbox_coder.decode(anchors, deltas) / stride
        boxes = boxes.reshape(n, h, w, 4).permute(0, 3, 1, 2).contiguous()
        sampled = head.deform_sampling(boxes, head.reg_offset_module(reg_feat).contiguous())
        # resampling can swap a box's corners; the head falls back to the unsampled box there (GIoU needs x1 <= x2)
        invalid = (sampled[:, [0]] > sampled[:, [2]]) | (sampled[:, [1]] > sampled[:, [3]])
        return {'cls': cls, 'reg': torch.where(invalid.expand_as(sampled), boxes, sampled)}

    @contextmanager
    def shared_assignment(self):
        """HeadAdapter.shared_assignment; where mmengine's MessageHub holds no epoch (outside a Runner: tests,
        scripts), epoch 0 for the block, a Runner's first, since TOODHead.get_targets compares the epoch with
        `initial_epoch` and fails on none. A Runner's own epoch is left as it is."""
        from mmengine.logging import MessageHub
        hub = MessageHub.get_current_instance()
        missing = hub.get_info('epoch') is None
        if missing:
            hub.update_info('epoch', 0)
        try:
            with super().shared_assignment():
                yield
        finally:
            if missing:
                hub.runtime_info.pop('epoch', None)

    def loss_inputs(self, preds: dict[str, list[Tensor]]) -> list:
        """[aligned scores σ('cls') (probabilities: TOOD's focal and quality focal losses run activated), boxes]."""
        return [[m.sigmoid() for m in preds['cls']], preds['reg']]

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes in pixels: the stride-unit boxes times their anchor's stride.

        Args:
            reg: (M, 4) boxes x1y1x2y2 in strides, as `predict` outputs them.
            priors: (M, 4) TOOD's anchors (one square anchor per location); the stride is recovered from the width.

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        return reg * self.anchor_strides(priors)[:, None]

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """get_anchors, then get_targets on the flattened scores (σ of the 'cls' logits) and boxes times their
        stride, as TOODHead.loss_by_feat builds them: ATSS assignment before `initial_epoch`, the TaskAlignedAssigner
        on these predictions after (the head reads the epoch from mmengine's MessageHub).

        Args:
            outputs: the head's predictions ('cls' and 'reg': the task-aligned assigner ranks by them).
            data_samples: list of N DetDataSample with `gt_instances` and image metainfo.

        Returns:
            Targets with valid = the label weights (N, L), pos = labels in [0, num_classes) (N, L), and num_pos =
            the number of positives, reduce_mean'd over processes and clamped at 1. TOOD's own losses divide by the
            summed (normalised) alignment metrics, or the ATSS centerness targets, instead; the KD terms' num_pos
            counts the positives, as for RTMDet (FIDELITY.md, TOOD).
        """
        from mmdet.models.utils import unpack_gt_instances
        from mmdet.utils import reduce_mean
        head = self.head
        cls_maps, reg_maps = outputs.preds['cls'], outputs.preds['reg']
        gts, ignores, metas = unpack_gt_instances(data_samples)
        anchors, flags = head.get_anchors([m.shape[-2:] for m in cls_maps], metas, device=cls_maps[0].device)
        scores = self.flatten(cls_maps, head.cls_out_channels).sigmoid()
        boxes = torch.cat([self.flatten([r], 4) * stride[0] for r, stride in zip(reg_maps, head.prior_generator.strides)],
                          dim=1)
        _, labels, weights, _, _ = head.get_targets(scores, boxes, anchors, flags, gts, metas,
                                                    batch_gt_instances_ignore=ignores)
        labels, weights = torch.cat(labels, dim=1), torch.cat(weights, dim=1)  # per-level (N, L_l) -> (N, L)
        pos = (labels >= 0) & (labels < head.num_classes)
        num_pos = reduce_mean(pos.sum().float()).clamp(min=1)
        return Targets(valid=weights, pos=pos, num_pos=num_pos)
