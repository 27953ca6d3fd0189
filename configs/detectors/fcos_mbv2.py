# FCOS MobileNetV2-FPN, 1x: the lightweight FCOS student of PGD Table 2 (32.8 AP there). Backbone and FPN as in the
# PGD authors' config (work_configs/detectors/fcos_mb2_distill_head.py): MobileNetV2 stages 1, 2, 4, 7 (24, 32,
# 96, 1280 channels), the FPN starting at its second input (strides 8/16/32, P6-P7 from its output). The rest is
# PGD's FCOS R50 student (configs/detectors/fcos_r50.py).
_base_ = './fcos_r50.py'
model = dict(
    backbone=dict(_delete_=True, type='MobileNetV2', out_indices=(1, 2, 4, 7), act_cfg=dict(type='ReLU6'),
                  norm_cfg=dict(type='BN', requires_grad=False),  # PGD freezes BN (Sec. 4.1)
                  init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://mmdet/mobilenet_v2')),
    neck=dict(in_channels=[24, 32, 96, 1280], start_level=1))
zoo_checkpoint = None
