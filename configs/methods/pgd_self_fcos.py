# PGD self-distillation on FCOS (PGD Table 4, "Ours": 38.2 -> 39.5 AP): teacher and student are the same FCOS R50
# 1x single-scale detector, the student's own config (coco: its mmdet zoo weights, 36.6 AP, below the 38.2 that
# Table 4's locally trained "S & T" row prints). Terms as _base_/pgd_terms.py with the anchor-free α = 0.04 of
# pgd_fcos.py.
_base_ = ['../detectors/fcos_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/detectors/fcos_r50.py')
distill = dict(terms=dict(cls=dict(loss=dict(alpha=0.04)), reg=dict(loss=dict(alpha=0.04))))
