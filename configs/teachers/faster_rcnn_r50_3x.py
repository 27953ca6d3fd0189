# Faster R-CNN R50-FPN, 3x multi-scale: the heterogeneous teacher of CrossKD Table 5's HEAD row (40.3 AP, mmdet's
# zoo; the same checkpoint HEAD's authors use).
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_ms-3x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/faster_rcnn_r50_fpn_mstrain_3x_coco/faster_rcnn_r50_fpn_mstrain_3x_coco_20210524_110822-e10bd31c.pth'
