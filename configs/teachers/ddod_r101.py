# DDOD R101-FPN, 1x schedule: teacher for DDOD R50 students. The bridge derives the FPN widths from the depth.
_base_ = '../detectors/ddod_r50.py'
model = dict(backbone=dict(depth=101, init_cfg=dict(checkpoint='torchvision://resnet101')))
# PGD's teachers are R101 3x multi-scale; mmdet's zoo has no DDOD R101 weights at all, so the coco profile needs
# teacher.checkpoint=PATH; the tiny profile trains it.
zoo_checkpoint = None
