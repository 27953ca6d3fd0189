# PKD on the FPN features of RetinaNet (CrossKD Table 9, the Swin-T group's PKD row): R50 student of a Swin-T
# teacher (the MobileNetV2 group's row is pkd_retinanet_r50_mbv2.py). Weight 6 per level, PKD's FPN setting as
# released in mmrazor.
_base_ = '../detectors/retinanet_r50.py'
teacher = dict(config='configs/teachers/retinanet_swin_t.py')
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
