# PGD on ATSS with a MobileNetV2 student (PGD Table 2, "Ours": 33.5 -> 38.3 AP): the R101 teacher of Table 1
# (configs/teachers/atss_r101.py; the paper's is R101 3x multi-scale, 45.5 AP, mmdet's zoo has R101 1x only) ->
# ATSS MobileNetV2 1x (configs/detectors/atss_mbv2.py). Terms as _base_/pgd_terms.py with the anchor-based
# α = 0.08 of pgd_atss.py.
_base_ = ['../detectors/atss_mbv2.py', './_base_/pgd_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
