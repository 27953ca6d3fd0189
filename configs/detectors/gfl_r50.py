# GFL R50-FPN, 1x single-scale: the CrossKD / PGD student (COCO 40.2 AP in mmdet's zoo).
_base_ = 'mmdet::gfl/gfl_r50_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r50_fpn_1x_coco/gfl_r50_fpn_1x_coco_20200629_121244-25944287.pth'
