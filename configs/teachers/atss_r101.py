# ATSS R101-FPN, 1x: the only ATSS R101 in mmdet's zoo; teacher for ATSS R50 students.
_base_ = 'mmdet::atss/atss_r101_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/atss/atss_r101_fpn_1x_coco/atss_r101_fpn_1x_20200825-dfcadd6f.pth'
