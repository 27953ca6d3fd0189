"""LD's main distillation region (Zheng et al., CVPR 2022): the student's own positives. Guide `main_region`."""
from __future__ import annotations

from torch import Tensor


def main_region(ctx) -> dict[str, list[Tensor]]:
    """Guide: {'fg': 1 where the student head's label assignment (`ctx.targets.pos`) marks some prediction of the
    location positive}, per level (N, H, W). Several anchors per location are reduced with `any`."""
    pos = ctx.targets.pos                                                    # (N, L·A)
    locations = sum(h * w for h, w in ctx.sizes)
    per_location = pos.shape[1] // locations
    fg = pos.reshape(pos.shape[0], locations, per_location).any(dim=-1)     # mmdet orders anchors innermost
    return {'fg': ctx.per_level(fg.to(ctx.feats[0].dtype))}
