# FGD self-distillation on ATSS (PGD Table 4, FGD row: 40.2 AP; teacher = student = 39.6): teacher and student are
# both ATSS R50 1x single-scale, the teacher being the student's own detector config (configs/detectors/atss_r50.py;
# in the coco profile its mmdet zoo weights, in tiny a run of it trained first). FGD's anchor-based one-stage
# hyper-parameters (T 0.5, α 1e-3, β 5e-4, γ 5e-4, λ 5e-6; sources in _base_/fgd_terms.py).
_base_ = ['../detectors/atss_r50.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/detectors/atss_r50.py')
