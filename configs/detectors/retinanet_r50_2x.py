# RetinaNet R50-FPN, 2x: the student of CrossKD Table 8 (37.4 AP there). The paper takes its students' settings and
# baselines from mmdet's zoo, and 37.4 is the zoo's 2x model (the 1x one is 36.5, CrossKD Table 9's student).
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_2x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/retinanet/retinanet_r50_fpn_2x_coco/retinanet_r50_fpn_2x_coco_20200131-fdb43119.pth'
