# PGD on AutoAssign (PGD Table 1): R101 teacher -> R50 student, anchor-free α = 0.04 (_base_/pgd_terms.py).
# The paper's teachers are R101 3x multi-scale; mmdet's zoo has no AutoAssign R101
# (see configs/teachers/autoassign_r101.py).
_base_ = ['../detectors/autoassign_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/autoassign_r101.py')
distill = dict(terms=dict(cls=dict(loss=dict(alpha=0.04)), reg=dict(loss=dict(alpha=0.04))))
