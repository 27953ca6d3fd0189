# FGD on YOLOX (issue 21, our extension): YOLOX-L -> YOLOX-S on the 3 PAFPN maps, FGD's anchor-free one-stage
# values (_base_/fgd_anchor_free.py; YOLOX is anchor-free). The student's maps reach FGD through the 1x1 kd_adapters
# conv to the teacher's width (distill.adapt), which stands in for FGD's own student-to-teacher 1x1 align conv (the
# loss then has none); one GcBlock pair per level (3).
_base_ = ['../detectors/yolox_s.py', './_base_/fgd_anchor_free.py']
teacher = dict(config='configs/teachers/yolox_l.py')
distill = dict(adapt=True)
