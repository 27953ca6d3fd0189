# FRS on CrowdHuman (PGD Table 3, the FRS row): DDOD R101 3x teacher -> DDOD R50 1x student on CrowdHuman, with
# the FRS terms of the COCO DDOD run (configs/methods/frs_ddod.py, _base_/frs_terms.py).
_base_ = ['../detectors/ddod_r50_crowdhuman.py', './_base_/frs_terms.py']
teacher = dict(config='configs/teachers/ddod_r101_crowdhuman.py')
