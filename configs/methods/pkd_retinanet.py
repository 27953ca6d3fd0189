# PKD on the FPN features of RetinaNet (CrossKD Table 9's PKD rows): R50 student of a Swin-T teacher. For the
# MobileNetV2 row, override the student as in crosskd_retinanet_r50_mbv2.py and teacher.config. Weight 6 per level,
# PKD's FPN setting as released in mmrazor.
_base_ = '../detectors/retinanet_r50.py'
teacher = dict(config='configs/teachers/retinanet_swin_t.py')
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
