# FKD on DDOD (PGD Table 1, FKD row: 43.6 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 46.6 / student
# 42.0 AP; the paper's teachers are R101 3x multi-scale, ours is configs/teachers/ddod_r101.py (mmdet's zoo has no
# DDOD R101). FKD's released single-stage hyper-parameters, the same for every detector (sources in
# _base_/fkd_terms.py).
_base_ = ['../detectors/ddod_r50.py', './_base_/fkd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101.py')
