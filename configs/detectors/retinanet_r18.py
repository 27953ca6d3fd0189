# RetinaNet R18-FPN, 1x: the student of CrossKD Table 5 (31.7 AP, mmdet's zoo model).
_base_ = 'mmdet::retinanet/retinanet_r18_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r18_fpn_1x_coco/retinanet_r18_fpn_1x_coco_20220407_171055-614fd399.pth'
