"""A method's KD terms: what each term compares, where, with which loss. Parsed from the config's `distill`.

    distill = dict(
        layer=3,          # CrossKD layer index: 0 feeds FPN features, stacked_convs only the predictors
        renorm=True,      # re-normalise the student's feature to the teacher's per-channel statistics
        adapt=False,      # a trainable 1x1 conv from the student's to the teacher's width before the teacher layers
        inherit=False,    # start the student's neck and head from the teacher's (name and shape shared; not the backbone)
        terms=dict(       # keyed by name; a term with weight 0 is switched off
            cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0),
                     weight=1.0),
            reg=dict(source='cross', pred='reg', region='teacher_score', loss=dict(type='DistributionKLKD'),
                     weight=4.0),
            neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=1.0)),
        variant='released',  # or a key of `variants`: e.g. 'paper', the method as its paper prints it
        variants=dict(paper=dict(terms=dict(cls=dict(norm='weight_sum')))))  # merged over the dict when selected

Prediction terms (`pred`) pull the `source` predictions towards the `target` ones. Predictions are the
student's own ('student'), the teacher's ('teacher'), the teacher head's layers `layer..end` on the student's
features ('cross': CrossKD), or the student head's layers `layer..end` on the teacher's features ('reverse').
The target is 'teacher' by default; a 'cross' or 'reverse' target is detached unless `detach=False`, which lets the
term's gradient reach the target's path too (the teacher's predictions never take one). Prediction mimicking is
source='student'; CrossKD is source='cross'. Locations are weighted by `region`:
  'all' (the head's label weights), 'pos' and 'neg' (its assigned positives / negatives), or 'teacher_score'
  (label weights × the teacher's max class probability: a soft foreground).
`space='box'` compares decoded boxes instead of raw regression outputs. A term is normalised by the number of
positives (`norm='num_pos'`, the default for cls, centerness, objectness), by its summed weights ('weight_sum', the
default for reg), or by the summed centerness targets of the positives ('centerness_sum', FCOS's box-loss
normaliser; heads without centerness targets refuse it). Feature terms (`feature`: 'neck', 'cls' / 'reg' for the head towers at `layer`, taken after
that layer's activation with `activate=True`, or 'pred_cls' / 'pred_reg' for the heads' raw prediction maps) hand
the student's and the teacher's per-level lists to the loss; `guide=dict(type=..., ...)` adds what the loss needs
beyond them (masks, weights, boxes: repro.distill.guides), e.g. PGD's prediction-guided masks. `warmup_iters=N`
ramps a term's weight linearly from 0 over the first N iterations (weight x iteration / N, iteration from 0: FRS's
`distill_warm_step`); the tiny profile shortens it to its LR warm-up, as it does the schedules' (repro.plan.compile).

The default of every method follows the authors' released code; where the paper prints a different form, the method
config names it in `variants` and `distill.variant=NAME` selects it (FIDELITY.md lists them all).
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields

from repro.errors import ReproError
from repro.distill.guides import check_guide

SOURCES = ('student', 'cross', 'reverse')
TARGETS = ('teacher', 'cross', 'reverse')
PREDS = ('cls', 'reg', 'centerness', 'objectness')  # objectness: YOLOX
REGIONS = ('all', 'pos', 'neg', 'teacher_score')
FEATURES = ('neck', 'cls', 'reg', 'pred_cls', 'pred_reg')
NORMS = ('num_pos', 'weight_sum', 'centerness_sum')


@dataclass(frozen=True)
class Term:
    name: str
    loss: dict
    weight: float = 1.0
    source: str | None = None
    target: str = 'teacher'
    pred: str | None = None
    region: str = 'all'
    space: str = 'raw'
    norm: str | None = None
    feature: str | None = None
    activate: bool = False
    guide: dict | None = None
    detach: bool = True
    warmup_iters: int = 0

    @property
    def is_feature(self) -> bool:
        return self.feature is not None

    @property
    def normalizer(self) -> str:
        return self.norm or ('weight_sum' if self.pred == 'reg' else 'num_pos')


@dataclass(frozen=True)
class DistillSpec:
    layer: int = 3
    renorm: bool = True
    adapt: bool = False
    inherit: bool = False
    terms: tuple[Term, ...] = field(default_factory=tuple)

    @property
    def active(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.weight)

    @property
    def needs_cross(self) -> bool:
        return self.needs('cross')

    def needs(self, predictions: str) -> bool:
        return any(predictions in (t.source, t.target) for t in self.active if not t.is_feature)


def _choice(name: str, key: str, value, allowed) -> None:
    if value not in allowed:
        raise ReproError(f"distill.terms.{name}.{key} is {value!r}: choose one of {', '.join(map(str, allowed))}")


RELEASED = 'released'  # the variant every method config writes out: the authors' released code


def _merged(base: dict, update: dict) -> dict:
    """`update` merged into a copy of `base`, nested dicts key by key."""
    out = dict(base)
    for key, value in update.items():
        out[key] = _merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def resolve_variant(cfg: dict) -> dict:
    """The distill dict with its `variant` applied and its `variants` table removed: 'released' is the dict as
    written, another name merges `variants[name]` over it. `variant` stays, as a label. A dict without a `variants`
    table is taken as resolved (repro.plan.compile.compile_config resolves every method config, then applies the
    user's own distill overrides again, so that they win over the variant's)."""
    cfg = dict(cfg or {})
    if 'variants' not in cfg:
        return cfg
    variants = dict(cfg.pop('variants') or {})
    name = cfg.get('variant', RELEASED)
    if name == RELEASED:
        return cfg
    if name not in variants:
        raise ReproError(f"distill.variant is {name!r}: this method defines {', '.join([RELEASED, *sorted(variants)])}")
    return _merged(cfg, variants[name])


def parse_distill(cfg: dict, num_layers: int) -> DistillSpec:
    cfg = resolve_variant(cfg)
    cfg.pop('variant', None)
    unknown = set(cfg) - {'layer', 'renorm', 'adapt', 'inherit', 'terms'}
    if unknown:
        raise ReproError(f"unknown distill keys {sorted(unknown)}: allowed are layer, renorm, adapt, inherit, terms, "
                         'variant, variants')
    if not isinstance(cfg.get('inherit', False), bool):
        raise ReproError(f"distill.inherit is {cfg['inherit']!r}: use True or False")
    layer = int(cfg.get('layer', min(3, num_layers)))
    if not 0 <= layer <= num_layers:
        raise ReproError(f'distill.layer is {layer}: the head has {num_layers} tower layers, so use 0..{num_layers}')
    allowed = {f.name for f in fields(Term)} - {'name'}
    terms = []
    for name, raw in dict(cfg.get('terms') or {}).items():
        raw = dict(raw)
        bad = set(raw) - allowed
        if bad:
            raise ReproError(f"unknown keys {sorted(bad)} in distill.terms.{name}: allowed are {', '.join(sorted(allowed))}")
        if 'loss' not in raw:
            raise ReproError(f'distill.terms.{name} has no loss')
        term = Term(name=name, **raw)
        if not isinstance(term.warmup_iters, int) or isinstance(term.warmup_iters, bool) or term.warmup_iters < 0:
            raise ReproError(f'distill.terms.{name}.warmup_iters is {term.warmup_iters!r}: use a whole number of '
                             'iterations, 0 for none')
        if term.is_feature:
            _choice(name, 'feature', term.feature, FEATURES)
            if term.guide is not None:
                check_guide(term.guide, f'distill.terms.{name}')
        else:
            _choice(name, 'source', term.source, SOURCES)
            _choice(name, 'target', term.target, TARGETS)
            if term.source == term.target:
                raise ReproError(f'distill.terms.{name} compares {term.source} predictions with themselves')
            if not isinstance(term.detach, bool) or (term.target == 'teacher' and not term.detach):
                raise ReproError(f"distill.terms.{name}.detach is {term.detach!r}: use True, or False with a 'cross' "
                                 "or 'reverse' target (the teacher's predictions take no gradient)")
            _choice(name, 'pred', term.pred, PREDS)
            _choice(name, 'region', term.region, REGIONS)
            _choice(name, 'space', term.space, ('raw', 'box'))
            _choice(name, 'norm', term.normalizer, NORMS)
        terms.append(term)
    spec = DistillSpec(layer=layer, renorm=bool(cfg.get('renorm', True)), adapt=bool(cfg.get('adapt', False)),
                       inherit=cfg.get('inherit', False), terms=tuple(terms))
    if spec.adapt and spec.needs('reverse'):
        raise ReproError('distill.adapt maps student features to the teacher width; reverse terms need the '
                         'opposite direction, which is not supported')
    return spec
