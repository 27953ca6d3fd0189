# PGD self-distillation on ATSS (PGD Table 4, "Ours": 39.6 -> 40.7 AP): teacher and student are the same ATSS R50
# 1x single-scale detector, the student's own config (coco: its mmdet zoo weights, 39.4 AP; Table 4's locally
# trained "S & T" row prints 39.6). Terms of _base_/pgd_terms.py. The code has no self-distillation config: the
# values are those of its ATSS R50 student (pgd_atss.py): α = 0.08, τ = 0.8, δ = 0.0008
# (work_configs/pgd_atss_r101_r50_1x.py), K = 9 (work_configs/detectors/atss_r50_distill_head.py).
# Paper variant: α = 0.8 (anchor-based), K = 30.
_base_ = ['../detectors/atss_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/detectors/atss_r50.py')
distill = dict(
    inherit=True,  # neck and head start from the teacher's: init_student=True, as in every released PGD config
    terms=dict(cls=dict(guide=dict(k=9), loss=dict(alpha=0.08, tau=0.8)),
               reg=dict(guide=dict(k=9), loss=dict(alpha=0.08, tau=0.8))))
