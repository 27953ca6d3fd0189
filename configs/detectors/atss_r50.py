# ATSS R50-FPN, 1x: student of CrossKD Table 8 and PGD.
_base_ = 'mmdet::atss/atss_r50_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/atss/atss_r50_fpn_1x_coco/atss_r50_fpn_1x_coco_20200209-985f7bd0.pth'
