# PGD on DDOD (PGD Table 1): R101 teacher -> R50 student, anchor-based α = 0.08 (_base_/pgd_terms.py).
# The paper's teachers are R101 3x multi-scale; mmdet's zoo has no DDOD R101 (see configs/teachers/ddod_r101.py).
_base_ = ['../detectors/ddod_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101.py')
