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


def gt_box_scaled(ctx) -> dict[str, list[Tensor]]:
    """Guide: FGD's masks (eq. 2-4), per level (N, H, W): {'fg': M·S, 'bg': (1 − M)·S}.

    M is 1 where a location's centre lies inside a GT box. Inside, S = 1/(H_r·W_r) with r the smallest box holding
    the location and H_r·W_r its area in feature cells of that level (pixels² / stride²), at least one cell: a box
    smaller than one cell weighs what a one-cell box does. Outside, S = 1/N_bg with N_bg the image's background
    locations on that level. FGD's code marks the cells floor(y1)..ceil(y2) x floor(x1)..ceil(x2) of the box scaled by
    the unpadded image size, with S = 1 / (number of those cells), about 1/((H_r + 1)(W_r + 1)); here the location
    centres decide, as for every other GT-box guide, and S follows the paper's 1/(H_r·W_r).
    """
    inside, area = gt_box_masks(ctx)
    _, level = ctx.locations
    strides = ctx.teacher_adapter.head.prior_generator.strides
    cell = inside.new_tensor([float(sx) * float(sy) for sx, sy in strides])[level]     # (L,) pixels² per cell
    fg = inside / (area / cell).clamp(min=1.0)                                         # 0 outside: area is inf
    bg = [b / b.sum((1, 2), keepdim=True).clamp(min=1.0) for b in ctx.per_level(1 - inside)]
    return {'fg': ctx.per_level(fg), 'bg': bg}
