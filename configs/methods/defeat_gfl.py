# DeFeat (Guo et al., CVPR 2021) on GFL: CrossKD Table 7 row "Defeat*", 40.8 AP, and PGD Table 1 row "GFL / DeFeat",
# 42.1 AP (both GFL R101 -> R50 with a 40.2 AP student; the teachers differ: 44.9 AP in CrossKD, 45.8 in PGD).
# Terms and sources: _base_/defeat_terms.py (the authors' released weights fg 3, bg 12). CrossKD's starred row
# carries LD's number from LD's own re-implementation, whose DeFeat weights are not released.
_base_ = ['../detectors/gfl_r50.py', './_base_/defeat_terms.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
