# DeFeat on CrowdHuman (PGD Table 3, the DeFeat row): DDOD R101 3x teacher -> DDOD R50 1x student on CrowdHuman, with
# the DeFeat terms of the COCO DDOD run (configs/methods/defeat_ddod.py, _base_/defeat_terms.py).
_base_ = ['../detectors/ddod_r50_crowdhuman.py', './_base_/defeat_terms.py']
teacher = dict(config='configs/teachers/ddod_r101_crowdhuman.py')
