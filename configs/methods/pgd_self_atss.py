# PGD self-distillation on ATSS (PGD Table 4, "Ours": 39.6 -> 40.7 AP): teacher and student are the same ATSS R50
# 1x single-scale detector, the student's own config (coco: its mmdet zoo weights, 39.4 AP; Table 4's locally
# trained "S & T" row prints 39.6). Terms as _base_/pgd_terms.py with the anchor-based α = 0.08 of pgd_atss.py.
_base_ = ['../detectors/atss_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/detectors/atss_r50.py')
