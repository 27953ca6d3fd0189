# AutoAssign R101-FPN (caffe backbone), 1x schedule: teacher for AutoAssign R50 students. The bridge derives the
# FPN widths from the depth.
_base_ = '../detectors/autoassign_r50.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='open-mmlab://detectron2/resnet101_caffe')))
# PGD's teachers are R101 3x multi-scale; mmdet's zoo has no AutoAssign R101 weights at all, so the coco profile
# needs teacher.checkpoint=PATH; the tiny profile trains it.
zoo_checkpoint = None
