# FGFI (Wang et al., CVPR 2019) on GFL: CrossKD Table 7 row "Fine-Grained*", 41.1 AP (GFL R101 -> R50).
# Terms and sources: _base_/fgfi_terms.py (ψ = 0.5, Σ/(2·N_p), λ = 0.01, 3x3 adaptation conv; GFL has one square
# anchor of 8·stride per location). Discrepancy: the starred row carries LD's number, whose code imitates this mask
# with its mean MSE × 2.0 and no adaptation conv (as fitnets_gfl.py); we follow FGFI's own paper and code, which
# weigh a masked location about 0.6x as much (0.01/2 vs 2/256 per squared channel error).
_base_ = ['../detectors/gfl_r50.py', './_base_/fgfi_terms.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
