# FGD on FCOS (PGD Table 1, FGD row: 41.4 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 43.1 / student
# 38.2 AP; the paper's teachers are R101 3x multi-scale, ours is 1x (configs/teachers/fcos_r101_pgd.py). FGD's
# anchor-free one-stage hyper-parameters (T 0.8, α 1.6e-3, β 8e-4, γ 8e-4, λ 8e-6; sources in
# _base_/fgd_anchor_free.py).
_base_ = ['../detectors/fcos_r50.py', './_base_/fgd_anchor_free.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
