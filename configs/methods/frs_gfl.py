# FRS on GFL (PGD Table 1, FRS row: 42.2 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 45.8 / student
# 40.2 AP; the paper's teachers are R101 3x multi-scale, ours is mmdet's GFL R101 2x multi-scale
# (configs/teachers/gfl_r101.py).
_base_ = ['../detectors/gfl_r50.py', './_base_/frs_terms.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
# Weights feature 0.1, cls 0.05: the authors' released GFL config (the defaults of _base_/frs_terms.py).
