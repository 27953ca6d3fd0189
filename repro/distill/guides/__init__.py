"""Guides: what a feature term's loss needs beyond the two feature maps (masks, weights, boxes), computed from the
batch. A term names one with `guide=dict(type=..., **kwargs)`; the guide returns a dict that the term's loss
receives as keyword arguments: `loss(student_levels, teacher_levels, **guide(ctx, **kwargs))`.

Every guide is a plain function `guide(ctx: KDContext, **kwargs) -> dict`, registered in `GUIDES` by name. Guides
compute loss weights, not gradient paths: they run under `no_grad`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import torch
from torch import Tensor

from repro.distill.adapters.base import HeadAdapter, HeadOutputs, Targets
from repro.errors import ReproError


@dataclass
class KDContext:
    """One training batch as the KD terms see it.

    Attributes:
        student_adapter, teacher_adapter: the two heads' adapters (`.head` is the mmdet head).
        feats, t_feats: student and teacher FPN features, per level (N, C, H, W).
        s_out, t_out: the two heads' outputs (preds per level, and tower features at the distill layer).
        data_samples: the batch's DetDataSamples (gt_instances, metainfo).
    """
    student_adapter: HeadAdapter
    teacher_adapter: HeadAdapter
    feats: list[Tensor]
    t_feats: list[Tensor]
    s_out: HeadOutputs
    t_out: HeadOutputs
    data_samples: list
    cache: dict = field(default_factory=dict)  # guide answers, shared by the terms that ask alike (run_guide)

    @cached_property
    def targets(self) -> Targets:
        """The student head's own target assignment (computed once per batch, on first use)."""
        return self.student_adapter.targets(self.s_out, self.data_samples)

    @cached_property
    def sizes(self) -> list[tuple[int, int]]:
        """(H, W) of each FPN level."""
        return [tuple(m.shape[-2:]) for m in self.t_out.preds['cls']]

    @cached_property
    def locations(self) -> tuple[Tensor, Tensor]:
        """(centres (L, 2) as (x, y) pixels, level_index (L,)), one per feature-map location, levels flattened."""
        from repro.distill.guides.prediction_guided import centres_of
        adapter = self.teacher_adapter
        priors = adapter.priors(self.t_out.preds['reg'])
        per_location = priors.shape[0] // sum(h * w for h, w in self.sizes)
        centres = centres_of(priors, adapter)[::per_location]
        level = torch.cat([torch.full((h * w,), i, device=priors.device) for i, (h, w) in enumerate(self.sizes)])
        return centres, level

    def per_level(self, flat: Tensor) -> list[Tensor]:
        """(N, L) -> per level (N, H, W)."""
        from repro.distill.guides.prediction_guided import per_level
        return per_level(flat, self.sizes)


def _registry() -> dict:
    from repro.distill.guides.candidates import candidates
    from repro.distill.guides.feature_richness import feature_richness
    from repro.distill.guides.fine_grained import fine_grained
    from repro.distill.guides.general_instances import general_instances
    from repro.distill.guides.gt_box import gt_box, gt_box_scaled
    from repro.distill.guides.main_region import main_region
    from repro.distill.guides.prediction_difference import prediction_difference
    from repro.distill.guides.prediction_guided import prediction_guided
    return {f.__name__: f for f in (prediction_guided, gt_box, candidates, prediction_difference, main_region,
                                    fine_grained, gt_box_scaled, feature_richness, general_instances)}


GUIDES = _registry()


def run_guide(cfg: dict, ctx: KDContext) -> dict:
    """The guide's answer for this batch. Terms that name the same guide with the same arguments (PGD's cls and reg
    terms, GID's three) share one computation: answers are cached on the context, which lives for one batch, and
    are read-only to the losses."""
    cfg = dict(cfg)
    name = cfg.pop('type', None)
    if name not in GUIDES:
        raise ReproError(f"unknown guide type '{name}': choose one of {', '.join(sorted(GUIDES))}")
    key = ('guide', name, repr(sorted(cfg.items())))
    if key not in ctx.cache:
        try:
            with torch.no_grad():
                ctx.cache[key] = GUIDES[name](ctx, **cfg)
        except TypeError as err:
            raise ReproError(f'bad arguments for guide {name}: {err}') from err
    return ctx.cache[key]


def check_guide(cfg: dict, where: str) -> None:
    """Fail at build time, not at the first step, on an unknown guide type."""
    if not isinstance(cfg, dict) or cfg.get('type') not in GUIDES:
        raise ReproError(f"{where}.guide needs type=one of {', '.join(sorted(GUIDES))}; got {cfg!r}")
