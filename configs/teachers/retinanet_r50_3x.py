# RetinaNet R50-FPN, 3x multi-scale: the homogeneous teacher of CrossKD Table 5 (39.5 AP, mmdet's zoo).
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_ms-640-800-3x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r50_fpn_mstrain_3x_coco/retinanet_r50_fpn_mstrain_3x_coco_20210718_220633-88476508.pth'
