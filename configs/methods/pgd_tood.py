# PGD on TOOD (our extension; FIDELITY.md, TOOD): TOOD R101 -> R50, terms of _base_/pgd_terms.py with ATSS's released
# anchor-based values (α = 0.08, τ = 0.8, δ = 0.0008, K = 9; pgd_atss.py): TOOD is ATSS-derived, one anchor per
# location, ATSS assignment for its first epochs. Layer 1 is the whole inter_convs stack's output (its layers'
# outputs concatenated, after their ReLU), the same map for the cls and reg terms (the stack is shared). PGW's quality
# q = p^(1-ξ)·IoU^ξ takes p = the teacher's aligned score of the GT class and IoU = that of its box with the GT.
_base_ = ['../detectors/tood_r50.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/tood_r101.py')
distill = dict(
    terms=dict(cls=dict(guide=dict(k=9), loss=dict(alpha=0.08, tau=0.8)),
               reg=dict(guide=dict(k=9), loss=dict(alpha=0.08, tau=0.8))))
