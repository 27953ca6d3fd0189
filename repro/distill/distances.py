"""How far a distiller's student is from its teacher and from the ground truth (CrossKD's training-dynamics figure).

Measured the same way for every method, whatever its own KD terms, so that prediction mimicking and CrossKD are
compared on one scale:

- to the teacher, classification: Quality Focal KD (β = 1) between the student's and the teacher's class logits
  over every location the head scores, per positive (zero exactly when the two agree);
- to the teacher, boxes: 1 − GIoU between the student's and the teacher's decoded boxes, weighted by the teacher's
  max class probability (its soft foreground);
- to the ground truth: the student head's own detection losses on its own target assignment (what its GT
  training minimises), and their total.
"""
from __future__ import annotations

import torch
from mmdet.models.utils import unpack_gt_instances
from torch import Tensor

from repro.distill.losses import BoxIoUKD, QualityFocalKD
from repro.distill.terms import Term
from repro.errors import REMEDY, Diverged

TEACHER_TERMS = (
    (Term(name='cls', loss={}, source='student', pred='cls', region='all'), QualityFocalKD(beta=1.0)),
    (Term(name='box', loss={}, source='student', pred='reg', region='teacher_score', space='box'), BoxIoUKD('giou')),
)


def _total(value) -> float:
    """A loss_by_feat entry (a tensor, or a list of per-level tensors) as one float."""
    if isinstance(value, (list, tuple)):
        return float(sum(v.sum() for v in value))
    return float(value.sum())


@torch.no_grad()
def distances(detector, batch_inputs: Tensor, data_samples) -> dict[str, float]:
    """{'to_teacher/cls', 'to_teacher/box', 'to_gt/<each detection loss>', 'to_gt/total'} on one batch.

    detector: a DistillDetector; batch_inputs and data_samples as its data_preprocessor returns them, with GT boxes
    in the input images' frame."""
    from repro.distill.guides import KDContext
    feats = detector.extract_feat(batch_inputs)
    s_out = detector.student_adapter.forward(feats, detector.spec.layer)
    bad = [name for name, maps in s_out.preds.items() if not all(bool(torch.isfinite(m).all()) for m in maps)]
    if bad:  # finite weights can still overflow in eval mode; mmdet's assigners would die on them with a traceback
        raise Diverged(f"training diverged: the student's {' and '.join(bad)} predictions are not finite on the "
                       f'training-dynamics images, though its weights are; {REMEDY}')
    t_feats = detector.teacher_feats(batch_inputs)
    t_out = detector.teacher_adapter.forward(t_feats, detector.spec.layer)
    ctx = KDContext(detector.student_adapter, detector.teacher_adapter, list(feats), list(t_feats), s_out, t_out,
                    data_samples)
    out = {}
    for term, loss in TEACHER_TERMS:
        value = detector._prediction_term(term, s_out.preds, t_out.preds, t_out, ctx.targets,
                                          loss=loss.to(batch_inputs.device))
        out[f'to_teacher/{term.name}'] = float(value)
    gts, ignores, metas = unpack_gt_instances(data_samples)
    preds = detector.student_adapter.loss_inputs(s_out.preds)
    losses = {name: _total(value) for name, value in
              detector.bbox_head.loss_by_feat(*preds, gts, metas, ignores).items()}
    out.update({f'to_gt/{name}': value for name, value in losses.items()})
    out['to_gt/total'] = sum(losses.values())
    return out
