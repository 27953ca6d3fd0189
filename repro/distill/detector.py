"""One distillation detector for every dense single-stage detector: a student plus a frozen guest teacher.

The student's backbone, neck and head are this detector's own modules under mmdet's usual names, so its
checkpoints are plain student checkpoints (`GFL`, `ATSS`, ... load them as they are). The teacher lives
outside `_modules`: it is not in `state_dict()`, `parameters()` (so not in the optimizer) or DDP, it stays in
eval mode, and its own forward runs under `no_grad`. CrossKD terms still send gradients *through* its frozen
layers into the student's features.
"""
from __future__ import annotations

import torch
from mmdet.models.detectors import SingleStageDetector
from mmdet.models.utils import unpack_gt_instances
from mmdet.registry import MODELS
from torch import Tensor, nn

from repro.distill.adapters import adapter_for
from repro.distill.adapters.base import BRANCHES, HeadAdapter, HeadOutputs, Targets
from repro.distill.losses import build_loss
from repro.distill.ramp import linear_ramp
from repro.distill.guides import KDContext, run_guide
from repro.distill.standardize import match_stats
from repro.distill.teacher import GuestTeacher, inherit_from_teacher
from repro.distill.terms import Term, parse_distill
from repro.errors import ReproError

KD_ONLY_PREFIX = 'kd_'  # parameters that exist for distillation only (kd_adapters); not part of the student


def student_parts(student: dict) -> dict:
    """A dense student's config as SingleStageDetector.__init__ arguments: its modules become the distiller's own."""
    student = dict(student)
    student_type = student.pop('type')
    if not issubclass(MODELS.get(student_type), SingleStageDetector):
        raise ReproError(f'student type {student_type} is not a dense single-stage detector')
    return dict(backbone=student['backbone'], neck=student.get('neck'), bbox_head=student['bbox_head'],
                train_cfg=student.get('train_cfg'), test_cfg=student.get('test_cfg'))


@MODELS.register_module()
class DistillDetector(GuestTeacher, SingleStageDetector):
    """Args:
        student: the student detector's model config (any SingleStageDetector: GFL, ATSS, FCOS, RetinaNet, ...).
        teacher: the teacher detector's model config.
        distill: the KD terms, see repro.distill.terms.
        teacher_checkpoint: path or URL of the teacher's weights; None leaves the teacher randomly initialised
            (tests only).
    """

    def __init__(self, student: dict, teacher: dict, distill: dict, teacher_checkpoint: str | None = None,
                 data_preprocessor=None, init_cfg=None):
        data_preprocessor = data_preprocessor or student.get('data_preprocessor')
        super().__init__(**student_parts(student), data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        guest = self.attach_teacher(teacher, teacher_checkpoint)
        self.student_adapter = adapter_for(self.bbox_head)
        self.teacher_adapter = adapter_for(guest.bbox_head)
        self.spec = parse_distill(distill, self.student_adapter.num_layers)
        self.num_levels = self._shared_levels(guest.bbox_head)
        widths = [self._width(adapter) for adapter in (self.student_adapter, self.teacher_adapter)]
        # a feature loss with an adaptation layer (FitNets, FGFI, ...) gets the two widths unless the config sets them
        self.kd_losses = nn.ModuleDict({t.name: build_loss(t.loss, **self._channels(t, guest)) for t in self.spec.active})
        if self.spec.adapt:  # KD-only parameters: in resume checkpoints, left out of the plain student's weights
            adapters = {b: nn.Conv2d(*widths, kernel_size=1) for b in BRANCHES}
            if any(t.feature == 'neck' for t in self.spec.active):  # the FPN maps' own adapter
                adapters['neck'] = nn.Conv2d(*self._neck_widths(guest), kernel_size=1)
            self.kd_adapters = nn.ModuleDict(adapters)
        else:
            if widths[0] != widths[1] and (self.spec.needs('cross') or self.spec.needs('reverse')):
                raise ReproError(f'student and teacher head widths differ at layer {self.spec.layer} ({widths[0]} vs '
                                 f'{widths[1]} channels) and no adapter is configured: set distill.adapt=True')
            self._check_feature_widths(guest)

    def init_weights(self):
        """The student's own initialisation, then, with `distill.inherit`, its neck and head from the teacher's.
        mmengine's Runner calls this once the model is built (and before a resume loads its checkpoint), so copying
        in `__init__` would be undone."""
        super().init_weights()
        if self.spec.inherit:
            inherit_from_teacher(self, self.teacher)

    def _width(self, adapter: HeadAdapter) -> int:
        """Channels of `adapter`'s head's features at distill.layer (TOOD's stack output is wider than one layer)."""
        return adapter.width(self.spec.layer)

    def _neck_widths(self, guest) -> list[int]:
        return [h.in_channels for h in (self.bbox_head, guest.bbox_head)]

    def _channels(self, term: Term, guest) -> dict:
        """student_channels / teacher_channels of a feature term's maps (neck or tower widths). With distill.adapt
        the student's maps reach the loss through kd_adapters, at the teacher's width."""
        if term.feature not in ('neck', 'cls', 'reg'):
            return {}
        levels = {}
        if term.feature == 'neck':
            widths = self._neck_widths(guest)
            levels = self._levels_default(term)
        else:
            widths = [self._width(a) for a in (self.student_adapter, self.teacher_adapter)]
        if self.spec.adapt:
            widths = [widths[1], widths[1]]
        return {'student_channels': widths[0], 'teacher_channels': widths[1], **levels}

    def _levels_default(self, term: Term) -> dict:
        """num_levels for a neck loss built with one layer per FPN level by default (FGD's 5): the levels the two
        detectors share (RTMDet's 3). Losses whose default shares one layer (num_levels=0) keep theirs."""
        import inspect

        from repro.distill.losses import LOSSES
        loss = LOSSES.get(term.loss.get('type'))
        param = inspect.signature(loss).parameters.get('num_levels') if loss else None
        return {'num_levels': self.num_levels} if param is not None and param.default else {}

    def _check_feature_widths(self, guest) -> None:
        """Without distill.adapt, a feature term whose maps differ in width needs a loss that maps them itself (one
        that takes student_channels: FitNets, DeFeat, FGD, ...); otherwise it is refused in one line."""
        import inspect

        from repro.distill.losses import LOSSES
        for term in self.spec.active:
            channels = self._channels(term, guest)
            if 'student_channels' not in channels or channels['student_channels'] == channels['teacher_channels']:
                continue
            loss = LOSSES[term.loss['type']]
            if 'student_channels' not in inspect.signature(loss).parameters:
                raise ReproError(f"distill.terms.{term.name}: student and teacher {term.feature} maps differ in width "
                                 f"({channels['student_channels']} vs {channels['teacher_channels']} channels) and "
                                 f"{term.loss['type']} has no adaptation layer: set distill.adapt=True")

    def _shared_levels(self, teacher_head) -> int:
        """The FPN levels the two detectors share: all of the student's, which must be the teacher's first ones
        (same strides). A teacher with more levels (GFL's P3-P7 for RTMDet's P3-P5) is cut to the student's."""
        def strides(head):
            return [tuple(s) if isinstance(s, (tuple, list)) else (s, s) for s in head.prior_generator.strides]
        student, teacher = strides(self.bbox_head), strides(teacher_head)
        if teacher[:len(student)] != student:
            raise ReproError(f'the student\'s FPN strides {[s[0] for s in student]} are not the first of the teacher\'s '
                             f'{[s[0] for s in teacher]}: distillation needs the student\'s levels in the teacher')
        return len(student)

    # --- training -------------------------------------------------------------------------------------------
    def teacher_feats(self, batch_inputs: Tensor) -> tuple[Tensor, ...]:
        """The teacher's neck maps, cut to the FPN levels it shares with the student (no gradient)."""
        with torch.no_grad():
            return self.teacher.extract_feat(self.teacher_inputs(batch_inputs))[:self.num_levels]

    def loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        with self.student_adapter.shared_assignment():  # the KD terms reuse the detection loss's assignment
            return self._loss(batch_inputs, batch_data_samples)

    def _loss(self, batch_inputs: Tensor, batch_data_samples) -> dict:
        spec = self.spec
        feats = self.extract_feat(batch_inputs)
        s_out = self.student_adapter.forward(feats, spec.layer)
        gt_instances, gt_ignore, img_metas = unpack_gt_instances(batch_data_samples)
        losses = self.bbox_head.loss_by_feat(*self.student_adapter.loss_inputs(s_out.preds), gt_instances, img_metas,
                                             gt_ignore)
        if not spec.active:
            return losses
        with torch.no_grad():
            t_feats = self.teacher_feats(batch_inputs)
            t_out = self.teacher_adapter.forward(t_feats, spec.layer)
        preds = {'student': s_out.preds, 'teacher': t_out.preds}
        if spec.needs('cross'):
            student_feats = s_out.feats
            if spec.adapt:
                student_feats = {b: [self.kd_adapters[b](f) for f in maps] for b, maps in student_feats.items()}
            preds['cross'] = self._cross_predictions(student_feats, t_out.feats, self.teacher_adapter)
        if spec.needs('reverse'):
            preds['reverse'] = self._cross_predictions(t_out.feats, s_out.feats, self.student_adapter)
        ctx = KDContext(self.student_adapter, self.teacher_adapter, list(feats), list(t_feats), s_out, t_out,
                        batch_data_samples)
        for term in spec.active:
            if term.is_feature:
                value = self._feature_term(term, ctx)
            else:
                target = preds[term.target]
                if term.target != 'teacher' and term.detach:
                    target = {k: [m.detach() for m in maps] for k, maps in target.items()}
                value = self._prediction_term(term, preds[term.source], target, t_out, ctx.targets)
            losses[f'loss_kd_{term.name}'] = term.weight * linear_ramp(term.warmup_iters) * value
        return losses

    def _cross_predictions(self, feats: dict, other_feats: dict, head: HeadAdapter) -> dict[str, list[Tensor]]:
        """`head`'s layers `layer..end` and predictors on `feats`, re-normalised to `other_feats`' statistics
        (those of the features `head` itself produces at that layer) when `renorm` is on."""
        if self.spec.renorm:
            feats = {b: [match_stats(f, o.detach()) for f, o in zip(feats[b], other_feats[b])] for b in feats}
        return head.cross_forward(feats, self.spec.layer)

    def _adapter_of(self, predictions: str) -> HeadAdapter:
        """The adapter of the head that produced `predictions` decodes them (train and eval outputs can differ)."""
        return self.teacher_adapter if predictions in ('teacher', 'cross') else self.student_adapter

    def _prediction_term(self, term: Term, source: dict[str, list[Tensor]], target: dict[str, list[Tensor]],
                         t_out: HeadOutputs, targets: Targets, loss: nn.Module | None = None) -> Tensor:
        """The term's weighted, normalised loss; `loss` replaces the term's own module (repro.distill.distances
        measures with fixed ones)."""
        adapter: HeadAdapter = self.student_adapter
        num_classes = self.bbox_head.cls_out_channels

        def channels(preds) -> int:  # per side: a GFL teacher's 4x17 distribution bins against RTMDet's 4 distances
            anchors = preds['cls'][0].shape[1] // num_classes
            return {'cls': num_classes, 'reg': preds['reg'][0].shape[1] // anchors, 'centerness': 1,
                    'objectness': 1}[term.pred]
        student = adapter.flatten(source[term.pred], channels(source))  # (N, L, channels)
        teacher = adapter.flatten(target[term.pred], channels(target))
        n, length = student.shape[:2]
        if term.pred == 'reg' and term.space == 'box':  # each side decoded by its own head, on its own priors
            s_head, t_head = self._adapter_of(term.source), self._adapter_of(term.target)
            student = s_head.decode(student.reshape(n * length, -1), s_head.priors(source['reg']).repeat(n, 1))
            teacher = t_head.decode(teacher.reshape(n * length, -1), t_head.priors(target['reg']).repeat(n, 1))
        loss = loss if loss is not None else self.kd_losses[term.name]
        per_location = loss(student.reshape(n * length, -1), teacher.reshape(n * length, -1)).reshape(n, length)
        weight = self._region(term.region, targets, t_out, num_classes)
        return (per_location * weight).sum() / self._normaliser(term, targets, weight)

    def _normaliser(self, term: Term, targets: Targets, weight: Tensor) -> Tensor:
        """The term's denominator: the number of positives, its summed weights (at least 1), or the positives'
        summed centerness targets."""
        if term.normalizer == 'num_pos':
            return targets.num_pos
        if term.normalizer == 'weight_sum':
            return weight.sum().clamp(min=1.0)
        if targets.centerness_sum is None:
            head = type(self.bbox_head).__name__
            raise ReproError(f"distill.terms.{term.name}.norm is 'centerness_sum', but {head} has no centerness "
                             "targets: use num_pos or weight_sum")
        return targets.centerness_sum

    def _region(self, region: str, targets: Targets, t_out: HeadOutputs, num_classes: int) -> Tensor:
        valid = targets.valid
        if region == 'all':
            return valid
        if region == 'pos':
            return valid * targets.pos
        if region == 'neg':
            return valid * ~targets.pos
        # the teacher's detection score (YOLOX: σ(cls)·σ(objectness)), max over classes
        return valid * self.teacher_adapter.scores(t_out.preds).amax(dim=-1)

    def _feature_term(self, term: Term, ctx: KDContext) -> Tensor:
        """The term's loss on the student's and the teacher's per-level maps, plus what its guide computes."""
        if term.feature == 'neck':
            student, teacher = ctx.feats, ctx.t_feats
        elif term.feature.startswith('pred_'):
            pred = term.feature[len('pred_'):]
            student, teacher = ctx.s_out.preds[pred], ctx.t_out.preds[pred]
        else:
            student, teacher = ctx.s_out.feats[term.feature], ctx.t_out.feats[term.feature]
            if term.activate:
                layer = self.spec.layer
                student = [self.student_adapter.activate(layer, f) for f in student]
                teacher = [self.teacher_adapter.activate(layer, f) for f in teacher]
        if self.spec.adapt and term.feature in self.kd_adapters:  # to the teacher's width, after any activation
            student = [self.kd_adapters[term.feature](f) for f in student]
        extra = run_guide(term.guide, ctx) if term.guide else {}
        return self.kd_losses[term.name](student, teacher, **extra)
