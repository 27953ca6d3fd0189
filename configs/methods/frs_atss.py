# FRS on ATSS (PGD Table 1, FRS row: 41.6 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 45.5 / student
# 39.6 AP; the paper's teachers are R101 3x multi-scale, ours is mmdet's ATSS R101 1x, the only one in its zoo
# (configs/teachers/atss_r101.py).
_base_ = ['../detectors/atss_r50.py', './_base_/frs_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
# Weights feature 0.1, cls 0.05: FRS released no ATSS config; we use its GFL values (the defaults of
# _base_/frs_terms.py, see there).
