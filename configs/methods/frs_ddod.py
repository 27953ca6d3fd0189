# FRS on DDOD (PGD Table 1, FRS row: 43.7 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 46.6 / student
# 42.0 AP; the paper's teachers are R101 3x multi-scale, ours is configs/teachers/ddod_r101.py (mmdet's zoo has no
# DDOD R101).
_base_ = ['../detectors/ddod_r50.py', './_base_/frs_terms.py']
teacher = dict(config='configs/teachers/ddod_r101.py')
# Weights feature 0.1, cls 0.05: FRS released no DDOD config; we use its GFL values (the defaults of
# _base_/frs_terms.py, see there).
