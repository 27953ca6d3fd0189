"""PFI's per-location weights (Li et al., AAAI 2022): the student–teacher prediction difference, guide
`prediction_difference`."""
from __future__ import annotations

import torch
from torch import Tensor

from repro.errors import ReproError

ACTIVATIONS = ('none', 'sigmoid')


def prediction_difference(ctx, preds: tuple[str, ...] = ('cls',), activation: str = 'none') -> dict[str, list[Tensor]]:
    """Guide: {'weight': per level (N, H, W)}, the channel mean of (P_s − P_t)², summed over `preds`.

    Channels are all of a location's outputs (A anchors × C classes for 'cls'). Guides run under no_grad, so the
    weight is detached: PFI's gradient reaches the student's features only, never its head through the weight.

    Args:
        ctx: the batch (repro.distill.guides.KDContext).
        preds: which prediction maps: 'cls', 'reg', 'centerness' (where the head has it).
        activation: 'none' compares raw outputs (cls logits); 'sigmoid' compares cls / centerness probabilities
            (reg stays raw).
    """
    if activation not in ACTIVATIONS:
        raise ReproError(f"guide prediction_difference: activation is {activation!r}; choose none or sigmoid")
    have = ctx.s_out.preds
    missing = [p for p in preds if p not in have or p not in ctx.t_out.preds]
    if not preds or missing:
        raise ReproError(f"guide prediction_difference: preds {list(preds)} must be some of {sorted(have)}")
    weight = None
    for name in preds:
        for level, (s, t) in enumerate(zip(have[name], ctx.t_out.preds[name])):
            if activation == 'sigmoid' and name != 'reg':
                s, t = s.sigmoid(), t.sigmoid()
            diff = (s.float() - t.float()).pow(2).mean(1)                          # (N, H, W)
            if weight is None:
                weight = [torch.zeros_like(m[:, 0], dtype=diff.dtype) for m in have[name]]
            weight[level] = weight[level] + diff
    return {'weight': weight}
