# FGD on AutoAssign (PGD Table 1, FGD row: 43.2 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 44.8 /
# student 40.6 AP; the paper's teachers are R101 3x multi-scale, ours is configs/teachers/autoassign_r101.py
# (mmdet's zoo has no AutoAssign R101). FGD's anchor-free one-stage hyper-parameters (T 0.8, α 1.6e-3, β 8e-4, γ
# 8e-4, λ 8e-6; sources in _base_/fgd_anchor_free.py); FGD released no AutoAssign config: we use its anchor-free
# (FCOS) values.
_base_ = ['../detectors/autoassign_r50.py', './_base_/fgd_anchor_free.py']
teacher = dict(config='configs/teachers/autoassign_r101.py')
