# FGD on FCOS with a MobileNetV2 student (PGD Table 2, FGD row: 34.7 AP; teacher 43.1, student 32.8): FCOS R101
# teacher -> FCOS MobileNetV2-FPN student (configs/detectors/fcos_mbv2.py), 1x. Our teacher is 1x (the paper's is 3x
# multi-scale; configs/teachers/fcos_r101_pgd.py). FGD's anchor-free one-stage hyper-parameters (T 0.8, α 1.6e-3,
# β 8e-4, γ 8e-4, λ 8e-6; sources in _base_/fgd_anchor_free.py). Both FPNs are 256 wide, so no adaptation conv.
_base_ = ['../detectors/fcos_mbv2.py', './_base_/fgd_anchor_free.py']
teacher = dict(config='configs/teachers/fcos_r101_pgd.py')
