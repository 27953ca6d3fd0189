"""FGFI's fine-grained imitation mask (Wang et al., CVPR 2019, Sec. 3): guide `fine_grained`."""
from __future__ import annotations

import torch
from mmdet.models.task_modules.prior_generators import MlvlPointGenerator
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from repro.errors import ReproError


def fine_grained(ctx, psi: float = 0.5, point_scale: float = 8.0) -> dict[str, list[Tensor]]:
    """Guide: {'fg': FGFI's imitation mask I}, per level (N, H, W).

    For each GT box, the IoU with every teacher prior of every FPN level gives m; the locations holding a prior with
    IoU > ψ·max(m) are that box's imitation region; I is their union over boxes (and a location's anchors). FGFI
    thresholds one feature map's anchors; here the maximum runs over the anchors of all levels, so each box picks its
    regions on the levels whose anchors fit it best. The comparison is strict (>), as in the official code.

    Anchor-free heads (FCOS, AutoAssign) have point priors. For them each point stands for a square box of side
    `point_scale`·stride centred on it: with the default 8 that is the single square anchor per location (8·stride)
    with which ATSS (Zhang et al., CVPR 2020) shows RetinaNet and FCOS to be equivalent, and the anchor that GFL,
    ATSS and DDOD place.

    Args:
        psi: ψ, the threshold factor (0.5 in the paper).
        point_scale: side of a point prior's box in strides (anchor-free heads only).
    """
    if not 0 < psi <= 1:
        raise ReproError(f'fine_grained psi is {psi}: use a factor in (0, 1] (FGFI uses 0.5)')
    if point_scale <= 0:
        raise ReproError(f'fine_grained point_scale is {point_scale}: use a positive number of strides')
    adapter = ctx.teacher_adapter
    boxes = prior_boxes(adapter.priors(ctx.t_out.preds['reg']), adapter.head.prior_generator, point_scale)
    locations = sum(h * w for h, w in ctx.sizes)
    per_location = boxes.shape[0] // locations
    masks = []
    for sample in ctx.data_samples:
        gt = sample.gt_instances.bboxes.to(boxes)
        iou = bbox_overlaps(gt, boxes)                                              # (G, L·A)
        hit = iou > psi * iou.amax(dim=1, keepdim=True)
        masks.append(hit.reshape(len(gt), locations, per_location).any(dim=2).any(dim=0))
    return {'fg': ctx.per_level(torch.stack(masks).to(ctx.feats[0].dtype))}


def prior_boxes(priors: Tensor, generator, point_scale: float) -> Tensor:
    """(P, 4) x1y1x2y2 boxes of the priors: anchors as they are; points (x, y, stride_w, stride_h) as squares of side
    point_scale·stride around them."""
    if not isinstance(generator, MlvlPointGenerator):
        return priors
    half = point_scale * priors[:, 2:4] / 2
    return torch.cat([priors[:, :2] - half, priors[:, :2] + half], dim=1)
