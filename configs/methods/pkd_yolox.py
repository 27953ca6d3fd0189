# PKD on YOLOX (issue 21, our extension): YOLOX-L -> YOLOX-S, Pearson-correlation imitation of the 3 PAFPN maps,
# weight 6 per level (PKD's FPN setting, pkd_gfl.py). The student's 128-channel maps reach the loss through the 1x1
# kd_adapters conv to the teacher's 256 (distill.adapt); PKD itself has no adaptation layer.
_base_ = ['../detectors/yolox_s.py']
teacher = dict(config='configs/teachers/yolox_l.py')
distill = dict(adapt=True, terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
