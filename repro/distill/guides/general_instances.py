"""GID's general instances (Dai et al., CVPR 2021, the general instance selection module): guide `general_instances`.

The selection follows the authors' released (detectron2) code: the GI score of a prediction is |max_c p_t − max_c p_s|
(the L1 distance between the teacher's and the student's highest class probabilities), its box the decoded box of
whichever model scores higher; per FPN level the `pre_nms` best, clipped to the image, boxes with a side of at most
`min_size` pixels dropped, NMS per level at IoU `nms_iou`, then the `k` best of the image. The response mask marks
the priors that RetinaNet's matcher assigns to a GI (IoU ≥ `pos_iou`, plus each GI's best prior).
"""
from __future__ import annotations

import torch
from mmcv.ops import batched_nms
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

from repro.errors import ReproError


def general_instances(ctx, k: int = 10, nms_iou: float = 0.3, pre_nms: int = 3000, min_size: float = 10.0,
                      pos_iou: float = 0.5, point_anchor_scale: float = 8.0) -> dict:
    """Guide: {'boxes': per image (K_i, 4) GI boxes x1y1x2y2 pixels, 'strides': stride of each FPN level,
    'response_mask': per level (N, A, H, W), 1 on the priors assigned to a GI}.

    The GID terms (feature, relation, response) share one selection per batch (run_guide caches it).
    Point heads (FCOS, AutoAssign) have no anchors to match, so each point gets a square of side
    `point_anchor_scale`·stride (8: the ATSS / GFL anchor) for the response mask.
    """
    return _select(ctx, k, nms_iou, pre_nms, min_size, pos_iou, point_anchor_scale)


def _select(ctx, k, nms_iou, pre_nms, min_size, pos_iou, point_anchor_scale) -> dict:
    t_adapter, s_adapter = ctx.teacher_adapter, ctx.student_adapter
    head = t_adapter.head
    num_classes = head.cls_out_channels
    anchors = ctx.t_out.preds['cls'][0].shape[1] // num_classes
    if ctx.s_out.preds['cls'][0].shape[1] != ctx.t_out.preds['cls'][0].shape[1]:
        raise ReproError('general_instances compares teacher and student predictions prior by prior: their heads '
                         'need the same number of anchors per location and classes')
    priors = t_adapter.priors(ctx.t_out.preds['reg'])                                    # (P, 4), P = L·A
    scores_t = t_adapter.flatten(ctx.t_out.preds['cls'], num_classes).amax(-1).sigmoid()  # (N, P)
    scores_s = s_adapter.flatten(ctx.s_out.preds['cls'], num_classes).amax(-1).sigmoid()
    boxes_t = _decode(t_adapter, ctx.t_out.preds['reg'], priors, anchors)                 # (N, P, 4)
    boxes_s = _decode(s_adapter, ctx.s_out.preds['reg'], priors, anchors)
    counts = [h * w * anchors for h, w in ctx.sizes]
    point = head.prior_generator.__class__.__name__ == 'MlvlPointGenerator'
    anchor_boxes = _point_squares(priors, point_anchor_scale) if point else priors
    boxes, masks = [], []
    for n, sample in enumerate(ctx.data_samples):
        chosen, _ = select_general_instances(scores_t[n], scores_s[n], boxes_t[n], boxes_s[n], counts,
                                             sample.metainfo['img_shape'], k, nms_iou, pre_nms, min_size)
        boxes.append(chosen)
        masks.append(response_mask(chosen, anchor_boxes, pos_iou))
    strides = [float(s[0]) for s in head.prior_generator.strides]
    mask = _per_level_anchors(torch.stack(masks), ctx.sizes, anchors)
    return {'boxes': boxes, 'strides': strides, 'response_mask': mask}


def select_general_instances(scores_t: Tensor, scores_s: Tensor, boxes_t: Tensor, boxes_s: Tensor,
                             counts: list[int], img_shape: tuple, k: int, nms_iou: float, pre_nms: int,
                             min_size: float) -> tuple[Tensor, Tensor]:
    """The GIs of one image.

    Args:
        scores_t, scores_s: (P,) max class probability of each prior, teacher and student.
        boxes_t, boxes_s: (P, 4) their decoded boxes, x1y1x2y2 pixels.
        counts: priors per FPN level (P = sum), level-major as mmdet orders them.
        img_shape: (h, w) of the image without padding.
        k, nms_iou, pre_nms, min_size: see the module docstring.

    Returns:
        (boxes (K', 4), scores (K',)), K' <= k, best first.
    """
    diff = scores_t - scores_s
    score = diff.abs()
    boxes = torch.where((diff > 0)[:, None], boxes_t, boxes_s)
    picked, level = [], []
    start = 0
    for i, count in enumerate(counts):
        top = score[start:start + count].topk(min(pre_nms, count)).indices + start
        picked.append(top)
        level.append(torch.full_like(top, i))
        start += count
    picked, level = torch.cat(picked), torch.cat(level)
    h, w = img_shape[:2]
    chosen = torch.stack([boxes[picked, 0].clamp(0, w), boxes[picked, 1].clamp(0, h),
                          boxes[picked, 2].clamp(0, w), boxes[picked, 3].clamp(0, h)], dim=1)
    keep = ((chosen[:, 2] - chosen[:, 0]) > min_size) & ((chosen[:, 3] - chosen[:, 1]) > min_size)
    keep &= torch.isfinite(chosen).all(1)
    chosen, chosen_scores, level = chosen[keep], score[picked][keep], level[keep]
    if len(chosen) == 0:
        return chosen, chosen_scores
    _, kept = batched_nms(chosen, chosen_scores, level, dict(type='nms', iou_threshold=nms_iou))
    kept = kept[:k]  # batched_nms returns the survivors best first
    return chosen[kept], chosen_scores[kept]


def response_mask(gi_boxes: Tensor, anchor_boxes: Tensor, pos_iou: float) -> Tensor:
    """(P,) float: 1 on the priors matched to a GI: IoU ≥ pos_iou with some GI, or a GI's highest-IoU prior(s)
    (detectron2's RetinaNet matcher with low-quality matches, which GID's code reuses). gi_boxes (K, 4),
    anchor_boxes (P, 4), both x1y1x2y2."""
    if len(gi_boxes) == 0:
        return anchor_boxes.new_zeros(len(anchor_boxes))
    iou = bbox_overlaps(gi_boxes, anchor_boxes)                         # (K, P)
    best = iou.amax(dim=1, keepdim=True)                                # (K, 1)
    low_quality = ((iou == best) & (best > 0)).any(0)
    return ((iou.amax(0) >= pos_iou) | low_quality).to(anchor_boxes.dtype)


def _decode(adapter, reg_maps: list[Tensor], priors: Tensor, anchors: int) -> Tensor:
    """(N, P, 4) boxes of one head's regression maps, decoded by that head's adapter."""
    channels = reg_maps[0].shape[1] // anchors
    reg = adapter.flatten(reg_maps, channels)                           # (N, P, channels)
    n, p = reg.shape[:2]
    return adapter.decode(reg.reshape(n * p, channels), priors.repeat(n, 1)).reshape(n, p, 4)


def _point_squares(points: Tensor, scale: float) -> Tensor:
    """Square boxes of side scale·stride centred on point priors (x, y, stride_w, stride_h)."""
    half = points[:, 2:4] * scale / 2
    return torch.cat([points[:, :2] - half, points[:, :2] + half], dim=1)


def _per_level_anchors(flat: Tensor, sizes: list[tuple[int, int]], anchors: int) -> list[Tensor]:
    """(N, L·A) in mmdet's level/row/column/anchor order -> per level (N, A, H, W)."""
    chunks = torch.split(flat, [h * w * anchors for h, w in sizes], dim=1)
    return [c.reshape(c.shape[0], h, w, anchors).permute(0, 3, 1, 2) for c, (h, w) in zip(chunks, sizes)]
