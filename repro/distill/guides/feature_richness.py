"""FRS's feature-richness score (Du et al., NeurIPS 2021): guide `feature_richness`."""
from __future__ import annotations

from torch import Tensor


def feature_richness(ctx) -> dict[str, list[Tensor]]:
    """Guide: {'richness': per level (N, H, W)}, the max over classes (and anchors) of the teacher's sigmoid class
    scores at each location: a soft foreground that reaches objects outside the GT boxes and drops GT regions the
    teacher calls background. Raw class scores, without FCOS's centerness or AutoAssign's objectness, as the
    authors' code takes them."""
    return {'richness': [m.sigmoid().amax(dim=1) for m in ctx.t_out.preds['cls']]}
