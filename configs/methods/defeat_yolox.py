# DeFeat on YOLOX (issue 21, our extension): YOLOX-L -> YOLOX-S, DeFeat's decoupled imitation of the 3 PAFPN maps
# (_base_/defeat_terms.py, released weights fg 3, bg 12). The student's maps pass the 1x1 kd_adapters conv to the
# teacher's width (distill.adapt), then DeFeat's own 3x3 adaptation conv per level.
_base_ = ['../detectors/yolox_s.py', './_base_/defeat_terms.py']
teacher = dict(config='configs/teachers/yolox_l.py')
distill = dict(adapt=True)
