"""YOLOX: anchor-free points (offset 0, x, y, stride, stride), boxes as (dx, dy, log w, log h) in strides, and three
predictions per location: class logits, box, and an objectness logit from the reg tower.

YOLOXHead has a tower per FPN level (`multi_level_cls_convs[level]`, `multi_level_reg_convs[level]`: nothing shared
across levels, norms included) and per-level predictor convs; no Scale. `predict` returns the head's outputs as its
loss takes them: 'cls' (N, C, H, W), 'reg' (N, 4, H, W) and 'objectness' (N, 1, H, W). The detection score is
σ(cls)·σ(objectness) (predict_by_feat), and `scores` gives it to the KD terms that weight by the teacher's score
(FIDELITY.md, YOLOX). Depthwise-separable towers (`use_depthwise`, YOLOX-Nano/Tiny) are refused: their ConvModule
pair has no single pre-activation feature.

SimOTA ranks priors by the head's own (detached) predictions, so `targets` runs `_get_targets_single` on the
predictions in `outputs`, image by image, exactly as loss_by_feat builds its arguments; within a training step
HeadAdapter.shared_assignment answers it from the detection loss's call when the predictions are the same.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets
from repro.errors import ReproError


LOG_SIZE_CAP = math.log(1e4)  # in strides: 8e4 px at YOLOX's smallest stride, 8


class YOLOXAdapter(HeadAdapter):
    heads = ('YOLOXHead',)
    # YOLOXHead assigns image by image (no get_targets); loss_by_feat looks the method up on the head at call time
    shared_methods = ('_get_targets_single',)

    def __init__(self, head):
        if getattr(head, 'use_depthwise', False):
            raise ReproError('YOLOXHead with use_depthwise=True is not supported for distillation: its '
                             'depthwise-separable tower layers have no single pre-activation feature; set '
                             'use_depthwise=False')
        super().__init__(head)

    def tower(self, branch: str, level: int = 0):
        return {'cls': self.head.multi_level_cls_convs, 'reg': self.head.multi_level_reg_convs}[branch][level]

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """The level's predictor convs, as forward_single runs them.

        Args:
            cls_feat: (N, F, H, W) cls tower output.
            reg_feat: (N, F, H, W) reg tower output.
            level: FPN level index: picks the level's predictors.

        Returns:
            'cls': (N, C, H, W) logits; 'reg': (N, 4, H, W) (dx, dy, log w, log h) in strides; 'objectness':
            (N, 1, H, W) logits.
        """
        head = self.head
        return {'cls': head.multi_level_conv_cls[level](cls_feat),
                'reg': head.multi_level_conv_reg[level](reg_feat),
                'objectness': head.multi_level_conv_obj[level](reg_feat)}

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes as YOLOXHead._bbox_decode makes them, in any mode.

        Args:
            reg: (M, 4) (dx, dy, log w, log h) in strides, as `predict` outputs them.
            priors: (M, 4) points (x, y, stride_w, stride_h).

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg` (not through a capped log-size).

        The log-sizes are capped at LOG_SIZE_CAP, as mmdet's delta coders cap theirs, where YOLOXHead's own decode
        has no cap: a box of 10^4 strides is wider than any image, and a larger one's exp overflows and makes the KD
        box loss NaN. The full smoke met it: random stand-in weights for YOLOX-L at 1280 px predicted log-sizes
        near 88. A trained YOLOX stays far below the cap (tests/distill/test_adapters.py).
        """
        return self.head._bbox_decode(priors, torch.cat([reg[:, :2], reg[:, 2:].clamp(max=LOG_SIZE_CAP)], dim=1))

    def scores(self, preds: dict[str, list[Tensor]]) -> Tensor:
        """σ(cls)·σ(objectness), the score predict_by_feat ranks and thresholds: (N, L, C)."""
        cls = self.flatten(preds['cls'], self.head.cls_out_channels)
        return cls.sigmoid() * self.flatten(preds['objectness'], 1).sigmoid()

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """_get_targets_single per image on the flattened, detached predictions, as loss_by_feat runs it.

        Args:
            outputs: the head's predictions ('cls', 'reg' and 'objectness': SimOTA ranks by them).
            data_samples: list of N DetDataSample with `gt_instances` and image metainfo.

        Returns:
            Targets with valid = 1 everywhere (N, L) (YOLOX's objectness loss takes every location; its cls and box
            losses the positives only), pos = the SimOTA foreground (N, L), and num_pos = the positives,
            reduce_mean'd over processes and at least 1: the avg_factor of all three of YOLOX's losses.
        """
        from mmdet.models.utils import unpack_gt_instances
        from mmdet.utils import reduce_mean
        head = self.head
        preds = outputs.preds
        n = preds['cls'][0].shape[0]
        gts, ignores, metas = unpack_gt_instances(data_samples)
        ignores = ignores if ignores is not None else [None] * n
        priors = torch.cat(head.prior_generator.grid_priors([m.shape[-2:] for m in preds['cls']],
                                                            dtype=preds['cls'][0].dtype, device=preds['cls'][0].device,
                                                            with_stride=True))
        cls = self.flatten(preds['cls'], head.cls_out_channels)
        reg = self.flatten(preds['reg'], 4)
        obj = torch.cat([m.permute(0, 2, 3, 1).reshape(n, -1) for m in preds['objectness']], dim=1)
        boxes = head._bbox_decode(priors, reg)
        pos = []
        for i in range(n):  # multi_apply over the batch: priors repeated, image slices of the detached maps
            result = head._get_targets_single(priors, cls[i].detach(), boxes[i].detach(), obj[i].detach(), gts[i],
                                              metas[i], ignores[i])
            pos.append(result[0])
        pos = torch.stack(pos)
        num_pos = torch.tensor(float(pos.sum()), device=pos.device)
        return Targets(valid=torch.ones(pos.shape, device=pos.device), pos=pos,
                       num_pos=reduce_mean(num_pos).clamp(min=1.0))
