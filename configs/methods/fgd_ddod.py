# FGD on DDOD (PGD Table 1, FGD row: 44.1 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 46.6 / student
# 42.0 AP; the paper's teachers are R101 3x multi-scale, ours is configs/teachers/ddod_r101.py (mmdet's zoo has no
# DDOD R101). FGD's anchor-based one-stage hyper-parameters (T 0.5, α 1e-3, β 5e-4, γ 5e-4, λ 5e-6; sources in
# _base_/fgd_terms.py); FGD released no ATSS / DDOD config: we use its anchor-based values.
_base_ = ['../detectors/ddod_r50.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101.py')
