# FGFI (Wang et al., CVPR 2019) on ATSS: PGD Table 1 row "ATSS / FGFI", 41.8 AP (R101 teacher -> R50 student;
# the teacher config notes where it differs from the paper's 3x multi-scale one). PGD followed each method's paper
# or code: terms and sources in _base_/fgfi_terms.py (ATSS: one square anchor of 8·stride per location).
_base_ = ['../detectors/atss_r50.py', './_base_/fgfi_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
