# DeFeat (Guo et al., CVPR 2021) on FCOS: PGD Table 1 row "FCOS / DeFeat", 40.7 AP (R101 teacher -> R50
# student; configs/teachers/fcos_r101_pgd.py notes where the teacher differs from the paper's 3x multi-scale one).
# PGD followed each method's paper or code: terms and sources in _base_/defeat_terms.py (released weights fg 3,
# bg 12).
_base_ = ['../detectors/fcos_r50.py', './_base_/defeat_terms.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
