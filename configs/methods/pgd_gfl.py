# PGD on GFL (PGD Table 1): R101 teacher -> R50 student; GFL places one anchor per location (anchor-based, α = 0.08).
_base_ = ['../detectors/gfl_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
