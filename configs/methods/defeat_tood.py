# DeFeat on TOOD (our extension; FIDELITY.md, TOOD): TOOD R101 -> R50, the FPN maps inside and outside the GT boxes
# with the released weights fg 3, bg 12 (_base_/defeat_terms.py), as for every dense detector here (defeat_atss.py).
_base_ = ['../detectors/tood_r50.py', './_base_/defeat_terms.py']
teacher = dict(config='configs/teachers/tood_r101.py')
