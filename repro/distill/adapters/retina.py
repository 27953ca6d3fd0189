"""RetinaNet: A anchors per location, (dx, dy, dw, dh) deltas; its anchor assignment is shared with ATSS and GFL."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets


class RetinaAdapter(HeadAdapter):
    """Anchor heads whose predictors are plain convs: subclasses name theirs and say whether a Scale applies."""

    heads = ('RetinaHead',)
    cls_conv, reg_conv = 'retina_cls', 'retina_reg'
    centerness_conv: str | None = None  # a one-channel quality branch on the reg tower, if the head has one
    scaled = False                      # whether a per-level Scale multiplies the regression output

    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """The head's predictor convs, and the level's Scale where the head has one, as its forward_single.

        Args:
            cls_feat: (N, F, H, W) cls tower output.
            reg_feat: (N, F, H, W) reg tower output.
            level: FPN level index, picks `head.scales[level]`.

        Returns:
            'cls': (N, A*C, H, W) logits; 'reg': (N, A*K, H, W) regression output (float32 when scaled);
            'centerness': (N, A, H, W) logits from the reg tower, for heads with such a branch.
        """
        head = self.head
        reg = getattr(head, self.reg_conv)(reg_feat)
        out = {'cls': getattr(head, self.cls_conv)(cls_feat),
               'reg': head.scales[level](reg).float() if self.scaled else reg}
        if self.centerness_conv:
            out['centerness'] = getattr(head, self.centerness_conv)(reg_feat)
        return out

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes from deltas with the head's own bbox coder (its means and stds).

        Args:
            reg: (M, 4) deltas (dx, dy, dw, dh).
            priors: (M, 4) anchors, x1y1x2y2 pixels.

        Returns:
            (M, 4) boxes, x1y1x2y2 pixels; differentiable w.r.t. `reg`.
        """
        from mmdet.structures.bbox import get_box_tensor
        return get_box_tensor(self.head.bbox_coder.decode(priors, reg))

    @torch.no_grad()
    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """The head's anchor assignment (get_anchors + get_targets), as its loss_by_feat runs it.

        Args:
            outputs: the head's predictions; only the map sizes of `outputs.preds['cls']` are used.
            data_samples: list of N DetDataSample with `gt_instances` and image metainfo.

        Returns:
            Targets with valid = label weights (N, L), pos = labels in [0, num_classes) (N, L), and num_pos =
            the cls loss's avg_factor (at least 1), L = sum over levels of H*W*A.
        """
        from mmdet.models.utils import unpack_gt_instances
        maps = outputs.preds['cls']
        gts, ignores, metas = unpack_gt_instances(data_samples)
        anchors, flags = self.head.get_anchors([m.shape[-2:] for m in maps], metas, device=maps[0].device)
        labels, weights, avg_factor = self._assign(anchors, flags, gts, metas, ignores)
        labels, weights = torch.cat(labels, dim=1), torch.cat(weights, dim=1)  # per-level (N, L_l) -> (N, L)
        pos = (labels >= 0) & (labels < self.head.num_classes)
        return Targets(valid=weights, pos=pos, num_pos=avg_factor.clamp(min=1))

    def _assign(self, anchors, flags, gts, metas, ignores) -> tuple[list[Tensor], list[Tensor], Tensor]:
        """head.get_targets -> per-level labels and label weights (N, L_l), and the avg_factor as a tensor."""
        labels, weights, _, _, avg_factor = self.head.get_targets(
            anchors, flags, gts, metas, batch_gt_instances_ignore=ignores)[:5]
        return labels, weights, torch.tensor(float(avg_factor), device=labels[0].device)
