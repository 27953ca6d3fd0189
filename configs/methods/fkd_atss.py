# FKD on ATSS (PGD Table 1, FKD row: 42.3 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 45.5 / student
# 39.6 AP; the paper's teachers are R101 3x multi-scale, ours is mmdet's ATSS R101 1x, the only one in its zoo
# (configs/teachers/atss_r101.py). FKD's released single-stage hyper-parameters, the same for every detector
# (sources in _base_/fkd_terms.py).
_base_ = ['../detectors/atss_r50.py', './_base_/fkd_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
