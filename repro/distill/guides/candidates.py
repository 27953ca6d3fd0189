"""Rank Mimicking's candidate boxes (Li et al., AAAI 2022): each GT's positive anchors, guide `candidates`."""
from __future__ import annotations

import inspect

import torch
from torch import Tensor

from repro.errors import ReproError


def candidates(ctx, iou_thr: float | None = None) -> dict[str, list[Tensor]]:
    """Guide: {'candidates': per image (G, L·A) bool, 'labels': per image (G,) long GT classes}.

    Candidate l of GT g is an anchor (mmdet order: levels, rows, columns, anchors innermost, as
    `HeadAdapter.flatten` orders predictions) that is a positive of g. RM's candidate boxes are the anchors
    assigned positive to an instance, so by default they come from the student head's own assigner, run the way
    its loss runs it (anchors inside the image by `allowed_border`, then `head.assigner`). For RetinaNet's
    MaxIoUAssigner that is IoU >= pos_iou_thr (0.5), each anchor going to the GT it overlaps most, plus each
    GT's best anchor(s) (min_pos_iou = 0, gt_max_assign_all), so every GT has at least one candidate.

    Args:
        ctx: the batch (repro.distill.guides.KDContext).
        iou_thr: instead of the assigner, every anchor whose IoU with the GT is >= iou_thr; an anchor may then
            be a candidate of several GTs, and a GT may have none.
    """
    adapter = ctx.student_adapter
    head = adapter.head
    if not hasattr(head, 'get_anchors'):
        raise ReproError(f'guide candidates needs an anchor head (RetinaNet, ATSS, GFL, ...); '
                         f'{type(head).__name__} has point priors')
    if iou_thr is not None and not 0 < iou_thr <= 1:
        raise ReproError(f'guide candidates: iou_thr is {iou_thr}; use a value in (0, 1], or None for the assigner')
    if iou_thr is None and getattr(head, 'assigner', None) is None:
        raise ReproError(f'guide candidates: {type(head).__name__} has no assigner (no train_cfg); set iou_thr')
    maps = ctx.s_out.preds['cls']
    labels = [s.gt_instances.labels.long() for s in ctx.data_samples]
    if iou_thr is not None:
        from mmdet.structures.bbox import bbox_overlaps
        priors = adapter.priors(maps)                                           # (L·A, 4)
        found = [bbox_overlaps(s.gt_instances.bboxes.to(priors), priors) >= iou_thr for s in ctx.data_samples]
    else:
        found = _assigned(head, maps, ctx.data_samples)
    return {'candidates': found, 'labels': labels}


def _assigned(head, maps: list[Tensor], data_samples) -> list[Tensor]:
    """Per image (G, L·A) bool: anchor l is assigned to GT g by the head's assigner (ignored GTs excluded)."""
    from mmdet.models.task_modules.prior_generators import anchor_inside_flags
    from mmdet.models.utils import unpack_gt_instances
    from mmdet.structures.bbox import get_box_tensor
    from mmengine.structures import InstanceData
    gts, ignores, metas = unpack_gt_instances(data_samples)
    anchors, flags = head.get_anchors([m.shape[-2:] for m in maps], metas, device=maps[0].device)
    with_levels = 'num_level_priors' in inspect.signature(head.assigner.assign).parameters  # ATSS-style assigners
    border = head.train_cfg.get('allowed_border', -1)
    found = []
    for n, meta in enumerate(metas):
        per_level = [len(a) for a in anchors[n]]
        flat = get_box_tensor(torch.cat([get_box_tensor(a) for a in anchors[n]]))
        inside = anchor_inside_flags(flat, torch.cat(flags[n]), meta['img_shape'][:2], border)
        pred = InstanceData(priors=flat[inside])
        if with_levels:
            counts = [int(c.sum()) for c in torch.split(inside, per_level)]
            result = head.assigner.assign(pred, counts, gts[n], ignores[n])
        else:
            result = head.assigner.assign(pred, gts[n], ignores[n])
        gt_inds = flat.new_zeros(len(flat), dtype=torch.long)
        gt_inds[inside] = result.gt_inds                                        # 0 negative, -1 ignored, g + 1
        ids = torch.arange(1, len(gts[n]) + 1, device=flat.device)
        found.append(gt_inds[None] == ids[:, None])
    return found
