"""PGD's prediction-guided foreground and background masks (Yang et al., ECCV 2022, eq. 1-5): guide `prediction_guided`."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs
from repro.distill.pgw import (background_mask, inside_boxes, max_over_predictions, pgw_weights, quality_from_terms,
                               quality_terms)


def prediction_guided(ctx, xi: float, k: int, strategy: str = 'ours') -> dict[str, list[Tensor]]:
    """Guide: {'fg': PGW masks M, 'bg': background masks N} of the teacher's predictions (see the function below).
    The ξ-free work (decoding, IoU, inside tests, background masks) is done once per batch for all PGD terms."""
    key = ('pgw_base', id(ctx.t_out))
    if key not in ctx.cache:
        ctx.cache[key] = pgw_base(ctx.teacher_adapter, ctx.t_out, ctx.data_samples)
    fg, bg = prediction_guided_masks(ctx.teacher_adapter, ctx.t_out, ctx.data_samples, xi=xi, k=k, strategy=strategy,
                                     base=ctx.cache[key])
    return {'fg': fg, 'bg': bg}


@torch.no_grad()
def pgw_base(adapter: HeadAdapter, t_out: HeadOutputs, data_samples) -> dict:
    """What PGW needs of a batch whatever ξ, K and the strategy: per image the masked quality terms (p, IoU) of
    every (GT, prediction) pair and the (GT, location) inside test, the background masks, and the locations."""
    head = adapter.head
    cls_maps = t_out.preds['cls']
    anchors = cls_maps[0].shape[1] // head.cls_out_channels
    reg_channels = t_out.preds['reg'][0].shape[1] // anchors
    scores = adapter.flatten(cls_maps, head.cls_out_channels).sigmoid()  # (N, L·A, C)
    reg = adapter.flatten(t_out.preds['reg'], reg_channels)              # (N, L·A, K)
    priors = adapter.priors(t_out.preds['reg'])                            # (L·A, 4)
    sizes = [tuple(m.shape[-2:]) for m in cls_maps]
    level_index = torch.cat([torch.full((h * w,), i, device=priors.device) for i, (h, w) in enumerate(sizes)])
    centres = centres_of(priors, adapter)[::anchors]                         # (L, 2): one centre per location
    images, bg = [], []
    for n, sample in enumerate(data_samples):
        gt = sample.gt_instances
        inside = inside_boxes(centres, gt.bboxes)                            # (G, L)
        terms = quality_terms(scores[n], adapter.decode(reg[n], priors), None, gt.bboxes, gt.labels,
                              inside=inside.repeat_interleave(anchors, dim=1))
        images.append((terms, inside))
        bg.append(background_mask(centres, gt.bboxes, level_index, inside=inside))
    return dict(images=images, bg=per_level(torch.stack(bg), sizes), anchors=anchors, sizes=sizes,
                level_index=level_index, centres=centres)


@torch.no_grad()
def prediction_guided_masks(adapter: HeadAdapter, t_out: HeadOutputs, data_samples, xi: float, k: int,
                            strategy: str = 'ours', base: dict | None = None) -> tuple[list[Tensor], list[Tensor]]:
    """PGW foreground masks M and normalised background masks N (PGD eq. 1-5) of every image and FPN level.

    Args:
        adapter: the teacher head's adapter (it decodes the teacher's own predictions).
        t_out: the teacher's head outputs.
        data_samples: the batch's DetDataSamples (gt_instances).
        xi: ξ, the weight of localisation against classification in the quality score.
        k: K, the number of top-quality locations per object.
        strategy: a foreground strategy of repro.distill.pgw.STRATEGIES (PGD Table 5).
        base: pgw_base of this batch, when the caller has it (several terms share it).

    Returns:
        (fg, bg): per level, (N, H, W) masks, each normalised per level as eq. 4 and eq. 5 say.
    """
    base = base or pgw_base(adapter, t_out, data_samples)
    fg = []
    for ((p, iou), inside), sample in zip(base['images'], data_samples):
        quality = max_over_predictions(quality_from_terms(p, iou, xi), base['anchors'])
        fg.append(pgw_weights(quality, base['centres'], base['level_index'], k=k, strategy=strategy,
                              gt_boxes=sample.gt_instances.bboxes, inside=inside))
    return per_level(torch.stack(fg), base['sizes']), base['bg']


def centres_of(priors: Tensor, adapter: HeadAdapter) -> Tensor:
    """(x, y) of each prior: anchor centres, or the points themselves (point priors are x, y, stride, stride)."""
    if adapter.head.prior_generator.__class__.__name__ == 'MlvlPointGenerator':
        return priors[:, :2]
    return (priors[:, :2] + priors[:, 2:]) / 2


def per_level(flat: Tensor, sizes: list[tuple[int, int]]) -> list[Tensor]:
    """(N, L) -> per level (N, H, W), L ordered level by level, row-major within a level."""
    chunks = torch.split(flat, [h * w for h, w in sizes], dim=1)
    return [c.reshape(flat.shape[0], h, w) for c, (h, w) in zip(chunks, sizes)]
