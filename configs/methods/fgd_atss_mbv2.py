# FGD on ATSS with a MobileNetV2 student (PGD Table 2, FGD row: 35.8 AP; teacher 45.5, student 33.5): ATSS R101
# teacher -> ATSS MobileNetV2-FPN student (configs/detectors/atss_mbv2.py), 1x. Our teacher is mmdet's ATSS R101 1x
# (the paper's is 3x multi-scale). FGD's anchor-based one-stage hyper-parameters (T 0.5, α 1e-3, β 5e-4, γ 5e-4,
# λ 5e-6; sources in _base_/fgd_terms.py). Both FPNs are 256 wide, so no adaptation conv.
_base_ = ['../detectors/atss_mbv2.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
