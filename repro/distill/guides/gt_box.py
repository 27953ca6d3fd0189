"""Ground-truth box masks: the foreground of Inside-GT-Box imitation, DeFeat, FGD and PGD's Box strategy."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.distill.pgw import inside_boxes


def gt_box_masks(ctx) -> tuple[Tensor, Tensor]:
    """(inside, area): (N, L) float 1 where a location's centre lies strictly inside some GT box, and (N, L) the
    area in pixels² of the smallest GT box containing it (inf outside every box)."""
    centres, _ = ctx.locations
    inside, area = [], []
    for sample in ctx.data_samples:
        boxes = sample.gt_instances.bboxes.to(centres)
        hit = inside_boxes(centres, boxes)                                            # (G, L)
        box_area = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))[:, None]
        no_box = centres.new_full((1, len(centres)), float('inf'))  # so an image without GT boxes works
        area.append(torch.cat([torch.where(hit, box_area, no_box), no_box]).amin(0))
        inside.append(hit.any(0).to(centres.dtype))
    return torch.stack(inside), torch.stack(area)


def gt_box(ctx) -> dict[str, list[Tensor]]:
    """Guide: {'fg': 1 inside any GT box, 'bg': 1 outside every GT box}, per level (N, H, W), unnormalised."""
    inside, _ = gt_box_masks(ctx)
    return {'fg': ctx.per_level(inside), 'bg': ctx.per_level(1 - inside)}
