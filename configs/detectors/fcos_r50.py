# FCOS R50-FPN, 1x, as the PGD authors train their FCOS student (work_configs/detectors/fcos_r50_1x.py; 38.2 AP in
# PGD Table 1): mmdet's FCOS with center sampling, box targets in strides and centerness on the box branch (the
# "center-normbbox-centeronreg" tricks, with the IoU box loss, not GIoU), a pytorch-style R50 with torchvision
# weights and ImageNet pixel statistics, no bias LR multiplier, a linear warm-up, gradient clipping at 35.
# PGD trained 8 GPUs x 4 images at LR 0.02: the same LR per image as 0.01 at mmdet's 8 x 2 kept here.
# mmdet's zoo has no weights for this config. CrossKD Table 8's FCOS is mmdet's own
# (configs/detectors/fcos_r50_ms2x.py).
_base_ = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_1x_coco.py'
model = dict(
    data_preprocessor=dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], bgr_to_rgb=True),
    backbone=dict(style='pytorch', init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    bbox_head=dict(norm_on_bbox=True, centerness_on_reg=True, center_sampling=True, conv_bias=True))
optim_wrapper = dict(
    _delete_=True, type='OptimWrapper', optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=35, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=12, by_epoch=True, milestones=[8, 11], gamma=0.1)]
zoo_checkpoint = None
