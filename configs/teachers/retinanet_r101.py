# RetinaNet R101-FPN, 2x: teacher for RetinaNet R50 students.
_base_ = 'mmdet::retinanet/retinanet_r101_fpn_2x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r101_fpn_2x_coco/retinanet_r101_fpn_2x_coco_20200131-5560aee8.pth'
