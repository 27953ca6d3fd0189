# FKD on FCOS (PGD Table 1, FKD row: 41.3 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 43.1 / student
# 38.2 AP; the paper's teachers are R101 3x multi-scale, ours is 1x
# (configs/teachers/fcos_r101_pgd.py). FKD's released single-stage hyper-parameters, the same for every detector
# (sources in _base_/fkd_terms.py).
_base_ = ['../detectors/fcos_r50.py', './_base_/fkd_terms.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
