"""DDOD: ATSS's head layout (one anchor per location, delta coder, per-level Scale) with an IoU branch on the reg
tower, and two assigners on the head's own predictions: one for the cls loss, one for the box and IoU losses.

The IoU branch is exposed under the 'centerness' key: like ATSS's centerness it is a one-channel logit per anchor
from the reg tower whose sigmoid multiplies the class score at test time, and 'centerness' is the key through which
DistillDetector hands a third prediction to the head's loss_by_feat (and the KD terms know it).
"""
from __future__ import annotations

import torch

from repro.distill.adapters.atss import ATSSAdapter
from repro.distill.adapters.base import HeadOutputs, Targets


class DDODAdapter(ATSSAdapter):
    """Decoding is ATSS's (the head's delta coder); `targets` is the cls assignment, `reg_targets` the reg one."""

    centerness_conv = 'atss_iou'  # DDOD's IoU branch
    heads = ('DDODHead',)

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """The cls-branch assignment (the head's `cls_assigner` via get_cls_targets), as DDOD's cls loss sees it.

        DDOD's assigners are ATSS with a prediction-aware cost, so the assignment depends on the predictions in
        `outputs` (the student's own, as in its loss).

        Args:
            outputs: the head's predictions; 'cls' and 'reg' are used.
            data_samples: list of N DetDataSample with `gt_instances` and image metainfo.

        Returns:
            Targets with valid = the cls label weights (N, L), pos = labels in [0, num_classes) (N, L), and
            num_pos = the cls loss's avg_factor: the samplers' summed avg_factor (max(positives, 1) per image),
            reduce_mean'd over processes and clamped at 1.
        """
        return self._assignment(outputs, data_samples, cls_branch=True)

    @torch.no_grad()
    def reg_targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """The reg-branch assignment (`reg_assigner` via get_reg_targets): the anchors DDOD's box and IoU losses
        regress. Same form and avg_factor convention as `targets`."""
        return self._assignment(outputs, data_samples, cls_branch=False)

    def _assignment(self, outputs: HeadOutputs, data_samples, cls_branch: bool) -> Targets:
        """get_anchors, process_predictions_and_anchors, then get_cls_targets or get_reg_targets, as loss_by_feat.

        Returns:
            Targets over L = sum over levels of H*W*A locations per image.
        """
        from mmdet.models.utils import unpack_gt_instances
        from mmdet.utils import reduce_mean
        head = self.head
        cls_maps, reg_maps = outputs.preds['cls'], outputs.preds['reg']
        gts, ignores, metas = unpack_gt_instances(data_samples)
        anchors, flags = head.get_anchors([m.shape[-2:] for m in cls_maps], metas, device=cls_maps[0].device)
        # per image: anchors and flags concatenated over levels, and the predictions flattened the same way
        anchors, flags, level_counts, cls_list, reg_list, ignores = head.process_predictions_and_anchors(
            anchors, flags, cls_maps, reg_maps, metas, ignores)
        get_targets = head.get_cls_targets if cls_branch else head.get_reg_targets
        _, labels, weights, _, _, avg_factor = get_targets(
            anchors, flags, level_counts, cls_list, reg_list, gts, metas, batch_gt_instances_ignore=ignores)
        labels, weights = torch.cat(labels, dim=1), torch.cat(weights, dim=1)  # per-level (N, L_l) -> (N, L)
        pos = (labels >= 0) & (labels < head.num_classes)
        num_pos = reduce_mean(torch.tensor(float(avg_factor), device=labels.device)).clamp(min=1)
        return Targets(valid=weights, pos=pos, num_pos=num_pos)
