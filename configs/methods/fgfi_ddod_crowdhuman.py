# FGFI on CrowdHuman (PGD Table 3, the FGFI row): DDOD R101 3x teacher -> DDOD R50 1x student on CrowdHuman, with
# the FGFI terms of the COCO DDOD run (configs/methods/fgfi_ddod.py, _base_/fgfi_terms.py).
_base_ = ['../detectors/ddod_r50_crowdhuman.py', './_base_/fgfi_terms.py']
teacher = dict(config='configs/teachers/ddod_r101_crowdhuman.py')
