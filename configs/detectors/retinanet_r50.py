# RetinaNet R50-FPN, 1x: student of CrossKD Table 8.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r50_fpn_1x_coco/retinanet_r50_fpn_1x_coco_20200130-c2398f9e.pth'
