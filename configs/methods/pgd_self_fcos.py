# PGD self-distillation on FCOS (PGD Table 4, "Ours": 38.2 -> 39.5 AP): teacher and student are the same FCOS R50
# 1x single-scale detector, the student's own config (coco: its mmdet zoo weights, 36.6 AP, below the 38.2 that
# Table 4's locally trained "S & T" row prints). Terms of _base_/pgd_terms.py. The code has no self-distillation
# config: the values are those of its FCOS R50 student (pgd_fcos.py): α = 0.04, τ = 0.8, δ = 0.0008
# (work_configs/pgd_fcos_r101_r50_1x.py), K = 30 (work_configs/detectors/fcos_r50_distill_head.py).
# Paper variant: α = 0.4 (anchor-free), K = 30.
_base_ = ['../detectors/fcos_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/detectors/fcos_r50.py')
distill = dict(
    inherit=True,  # neck and head start from the teacher's: init_student=True, as in every released PGD config
    terms=dict(cls=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8)),
               reg=dict(guide=dict(k=30), loss=dict(alpha=0.04, tau=0.8))),
    variants=dict(paper=dict(terms=dict(cls=dict(loss=dict(alpha=0.4)), reg=dict(loss=dict(alpha=0.4))))))
