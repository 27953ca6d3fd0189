# DDOD R101-FPN on CrowdHuman, 36 epochs multi-scale: PGD Table 3's teacher, as the authors'
# work_configs/det_crowdhuman/ddod_r101.py and base/crowdhuman_3x_setting.py: the shorter side drawn from 480-960
# (longer side at most 1400), lr steps at epochs 24 and 33. What configs/datasets/crowdhuman.py sets (pipelines,
# evaluator) is changed under dataset.overrides, which the bridge merges after this file.
_base_ = '../detectors/ddod_r50_crowdhuman.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='torchvision://resnet101')))
train_cfg = dict(max_epochs=36)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=500),
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True, milestones=[24, 33], gamma=0.1),
]
dataset = dict(overrides=dict(train_dataloader=dict(dataset=dict(pipeline=[
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True),
    dict(type='RandomResize', scale=[(1400, 480), (1400, 960)], keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]))))
# mmdet's zoo has no CrowdHuman weights: in both profiles a method run trains this teacher first (its own run's
# weights.pth), unless it is given teacher.checkpoint=PATH.
zoo_checkpoint = None
