# FGD on TOOD (our extension; FIDELITY.md, TOOD): TOOD R101 -> R50 on the 5 FPN maps with FGD's anchor-based
# one-stage values (T 0.5, α 1e-3, β 5e-4, γ 5e-4, λ 5e-6; _base_/fgd_terms.py), as for ATSS (fgd_atss.py): TOOD is
# ATSS-derived, one anchor per location.
_base_ = ['../detectors/tood_r50.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/teachers/tood_r101.py')
