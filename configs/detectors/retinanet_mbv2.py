# RetinaNet MobileNetV2-FPN, 1x: the lightweight student of CrossKD Table 9 (30.9 AP there). The paper does not
# say which MobileNetV2 stages feed the FPN; we take strides 8/16/32 (out_indices 2, 4, 6), whose widths the
# bridge derives, and the FPN starts at its first input as for the other 3-input backbones.
_base_ = './retinanet_r50.py'
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV2', out_indices=(2, 4, 6), act_cfg=dict(type='ReLU6'),
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://mmdet/mobilenet_v2')),
    neck=dict(in_channels=[32, 96, 320], start_level=0))
zoo_checkpoint = None
