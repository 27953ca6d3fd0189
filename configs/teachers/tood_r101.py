# TOOD R101-FPN, 2x multi-scale: teacher for TOOD R50 students, the only plain R101 TOOD in mmdet's zoo (46.1 AP
# there), as GFL's CrossKD teacher is GFL R101 2x multi-scale.
_base_ = 'mmdet::tood/tood_r101_fpn_ms-2x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/tood/tood_r101_fpn_mstrain_2x_coco/tood_r101_fpn_mstrain_2x_coco_20211210_144232-a18f53c8.pth'
