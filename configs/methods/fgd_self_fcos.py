# FGD self-distillation on FCOS (PGD Table 4, FGD row: 39.0 AP; teacher = student = 38.2): teacher and student are
# both FCOS R50 1x single-scale, the teacher being the student's own detector config (configs/detectors/fcos_r50.py;
# in the coco profile its mmdet zoo weights, in tiny a run of it trained first). FGD's anchor-free one-stage
# hyper-parameters (T 0.8, α 1.6e-3, β 8e-4, γ 8e-4, λ 8e-6; sources in _base_/fgd_anchor_free.py).
_base_ = ['../detectors/fcos_r50.py', './_base_/fgd_anchor_free.py']
teacher = dict(config='configs/detectors/fcos_r50.py')
