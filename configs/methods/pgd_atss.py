# PGD on ATSS (PGD Tables 1, 5, 6, 7): R101 teacher -> R50 student, anchor-based α = 0.08 (_base_/pgd_terms.py).
# The paper's teachers are R101 3x multi-scale; mmdet's zoo has ATSS R101 1x only (see configs/teachers/atss_r101.py).
_base_ = ['../detectors/atss_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
