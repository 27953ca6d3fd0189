# FKD on AutoAssign (PGD Table 1, FKD row: 42.8 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 44.8 /
# student 40.6 AP; the paper's teachers are R101 3x multi-scale, ours is configs/teachers/autoassign_r101.py
# (mmdet's zoo has no AutoAssign R101). FKD's released single-stage hyper-parameters, the same for every detector
# (sources in _base_/fkd_terms.py).
_base_ = ['../detectors/autoassign_r50.py', './_base_/fkd_terms.py']
teacher = dict(config='configs/teachers/autoassign_r101.py')
