# CrossKD between heterogeneous backbones (CrossKD Table 9): RetinaNet R50 teacher -> RetinaNet MobileNetV2 student.
_base_ = './crosskd_retinanet.py'
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV2', out_indices=(2, 4, 6), act_cfg=dict(type='ReLU6'),
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://mmdet/mobilenet_v2')),
    neck=dict(in_channels=[32, 96, 320], start_level=0))
teacher = dict(config='configs/detectors/retinanet_r50.py')
