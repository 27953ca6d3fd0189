# GFL R101-FPN, 2x multi-scale: the CrossKD teacher, taken from mmdet's zoo (44.7 AP there).
_base_ = 'mmdet::gfl/gfl_r101_fpn_ms-2x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'
