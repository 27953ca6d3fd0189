# FRS on FCOS (PGD Table 1, FRS row: 40.9 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 43.1 / student
# 38.2 AP; the paper's teachers are R101 3x multi-scale, ours is 1x
# (configs/teachers/fcos_r101_pgd.py).
_base_ = ['../detectors/fcos_r50.py', './_base_/frs_terms.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
# Weights feature 0.01, cls 0.05: the authors' released FCOS config (config/distill_frs/
# resnet50_resnet101_fcos_frs.py).
distill = dict(terms=dict(frs_feat=dict(weight=0.01), frs_cls=dict(weight=0.05)))
