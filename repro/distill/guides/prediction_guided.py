"""PGD's prediction-guided foreground and background masks and PGW importance (Yang et al., ECCV 2022, eq. 1-5).

Guide `prediction_guided`: {'fg': M, 'bg': N, 'importance': I} per FPN level."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs
from repro.distill.pgw import (background_mask, inside_boxes, max_over_predictions, per_level_normalise, pgw_weights,
                               quality_from_terms, quality_terms)


def prediction_guided(ctx, xi: float, k: int, strategy: str = 'ours',
                      topk_domain: str = 'image') -> dict[str, list[Tensor]]:
    """Guide: {'fg': PGW masks M (eq. 4), 'bg': background masks N (eq. 5), 'importance': the un-normalised PGW
    values I} of the teacher's predictions (see :func:`prediction_guided_maps`). The ξ-free work (decoding, IoU,
    inside tests, background masks) is done once per batch for all PGD terms."""
    key = ('pgw_base', id(ctx.t_out))
    if key not in ctx.cache:
        ctx.cache[key] = pgw_base(ctx.teacher_adapter, ctx.t_out, ctx.data_samples)
    return prediction_guided_maps(ctx.teacher_adapter, ctx.t_out, ctx.data_samples, xi=xi, k=k, strategy=strategy,
                                  topk_domain=topk_domain, base=ctx.cache[key])


@torch.no_grad()
def pgw_base(adapter: HeadAdapter, t_out: HeadOutputs, data_samples) -> dict:
    """What PGW needs of a batch whatever ξ, K, the strategy and the top-K domain: per image the quality terms
    (p, IoU) of every (GT, prediction) pair WITHOUT the in-box indicator (the released code ranks those; the in-box
    domain masks them in pgw_weights) and the (GT, location) inside test, the background masks, and the locations."""
    head = adapter.head
    cls_maps = t_out.preds['cls']
    anchors = cls_maps[0].shape[1] // head.cls_out_channels
    reg_channels = t_out.preds['reg'][0].shape[1] // anchors
    scores = adapter.scores(t_out.preds)  # (N, L·A, C): σ(cls), YOLOX's σ(cls)·σ(objectness)
    reg = adapter.flatten(t_out.preds['reg'], reg_channels)              # (N, L·A, K)
    priors = adapter.priors(t_out.preds['reg'])                            # (L·A, 4)
    sizes = [tuple(m.shape[-2:]) for m in cls_maps]
    level_index = torch.cat([torch.full((h * w,), i, device=priors.device) for i, (h, w) in enumerate(sizes)])
    centres = centres_of(priors, adapter)[::anchors]                         # (L, 2): one centre per location
    images, bg = [], []
    for n, sample in enumerate(data_samples):
        gt = sample.gt_instances
        inside = inside_boxes(centres, gt.bboxes)                            # (G, L)
        terms = quality_terms(scores[n], adapter.decode(reg[n], priors), None, gt.bboxes, gt.labels, masked=False)
        images.append((terms, inside))
        bg.append(background_mask(centres, gt.bboxes, level_index, inside=inside))
    return dict(images=images, bg=per_level(torch.stack(bg), sizes), anchors=anchors, sizes=sizes,
                level_index=level_index, centres=centres)


@torch.no_grad()
def prediction_guided_maps(adapter: HeadAdapter, t_out: HeadOutputs, data_samples, xi: float, k: int,
                           strategy: str = 'ours', topk_domain: str = 'image',
                           base: dict | None = None) -> dict[str, list[Tensor]]:
    """PGW importance I, foreground masks M and normalised background masks N (PGD eq. 1-5) of every image and level.

    Args:
        adapter: the teacher head's adapter (it decodes the teacher's own predictions).
        t_out: the teacher's head outputs.
        data_samples: the batch's DetDataSamples (gt_instances).
        xi: ξ, the weight of localisation against classification in the quality score.
        k: K, the number of top-quality locations per object.
        strategy: a foreground strategy of repro.distill.pgw.STRATEGIES (PGD Table 5).
        topk_domain: repro.distill.pgw.TOPK_DOMAINS: 'image' (released code: rank every location by q without the
            in-box indicator, zero out-of-box values after the fit) or 'box' (paper: rank in-box locations only).
        base: pgw_base of this batch, when the caller has it (several terms share it).

    Returns:
        {'fg': M, 'bg': N, 'importance': I}, each per level (N, H, W); M = I normalised per image and level as eq. 4
        says (I / its non-zero count), N as eq. 5 says. PGD's released reg loss weights by I, its cls loss by M.
    """
    base = base or pgw_base(adapter, t_out, data_samples)
    importance = []
    for ((p, iou), inside), sample in zip(base['images'], data_samples):
        quality = max_over_predictions(quality_from_terms(p, iou, xi), base['anchors'])
        importance.append(pgw_weights(quality, base['centres'], base['level_index'], k=k, strategy=strategy,
                                      gt_boxes=sample.gt_instances.bboxes, inside=inside, normalise=False,
                                      topk_domain=topk_domain))
    importance = torch.stack(importance)                                      # (N, L)
    fg = torch.stack([per_level_normalise(i, base['level_index']) for i in importance])
    return dict(fg=per_level(fg, base['sizes']), bg=base['bg'], importance=per_level(importance, base['sizes']))


def centres_of(priors: Tensor, adapter: HeadAdapter) -> Tensor:
    """(x, y) of each prior: anchor centres, or the points themselves (point priors are x, y, stride, stride)."""
    if adapter.head.prior_generator.__class__.__name__ == 'MlvlPointGenerator':
        return priors[:, :2]
    return (priors[:, :2] + priors[:, 2:]) / 2


def per_level(flat: Tensor, sizes: list[tuple[int, int]]) -> list[Tensor]:
    """(N, L) -> per level (N, H, W), L ordered level by level, row-major within a level."""
    chunks = torch.split(flat, [h * w for h, w in sizes], dim=1)
    return [c.reshape(flat.shape[0], h, w) for c, (h, w) in zip(chunks, sizes)]
