# FGFI (Wang et al., CVPR 2019) on DDOD: PGD Table 1 row "DDOD / FGFI", 44.1 AP (R101 teacher -> R50 student;
# see configs/teachers/ddod_r101.py for the teacher). Terms and sources: _base_/fgfi_terms.py (DDOD: one square
# anchor of 8·stride per location).
_base_ = ['../detectors/ddod_r50.py', './_base_/fgfi_terms.py']
teacher = dict(config='configs/teachers/ddod_r101.py')
