# FKD on CrowdHuman (PGD Table 3, the FKD row): DDOD R101 3x teacher -> DDOD R50 1x student on CrowdHuman, with
# the FKD terms of the COCO DDOD run (configs/methods/fkd_ddod.py, _base_/fkd_terms.py).
_base_ = ['../detectors/ddod_r50_crowdhuman.py', './_base_/fkd_terms.py']
teacher = dict(config='configs/teachers/ddod_r101_crowdhuman.py')
