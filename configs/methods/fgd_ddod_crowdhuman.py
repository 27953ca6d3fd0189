# FGD on CrowdHuman (PGD Table 3, the FGD row): DDOD R101 3x teacher -> DDOD R50 1x student on CrowdHuman, with
# the FGD terms of the COCO DDOD run (configs/methods/fgd_ddod.py, _base_/fgd_terms.py).
_base_ = ['../detectors/ddod_r50_crowdhuman.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101_crowdhuman.py')
