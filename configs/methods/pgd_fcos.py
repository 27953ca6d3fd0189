# PGD on FCOS (PGD Tables 1, 6b): R101 teacher -> R50 student, anchor-free α = 0.04 (_base_/pgd_terms.py).
_base_ = ['../detectors/fcos_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/fcos_r101.py')
distill = dict(terms=dict(cls=dict(loss=dict(alpha=0.04)), reg=dict(loss=dict(alpha=0.04))))
