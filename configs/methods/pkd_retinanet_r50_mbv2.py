# PKD on the FPN features (CrossKD Table 9, the MobileNetV2 group's PKD row): RetinaNet R50 1x teacher (36.5) ->
# RetinaNet MobileNetV2 1x student (30.9). Weight 6 per level, PKD's FPN setting as released in mmrazor.
_base_ = ['../detectors/retinanet_mbv2.py']
teacher = dict(config='configs/detectors/retinanet_r50.py')
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
