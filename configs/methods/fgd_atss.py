# FGD on ATSS (PGD Table 1, FGD row: 42.6 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 45.5 / student
# 39.6 AP; the paper's teachers are R101 3x multi-scale, ours is mmdet's ATSS R101 1x, the only one in its zoo
# (configs/teachers/atss_r101.py). FGD's anchor-based one-stage hyper-parameters (T 0.5, α 1e-3, β 5e-4, γ 5e-4, λ
# 5e-6; sources in _base_/fgd_terms.py); FGD released no ATSS / DDOD config: we use its anchor-based values.
_base_ = ['../detectors/atss_r50.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
