# RetinaNet Swin-T FPN, 1x: the heterogeneous teacher of CrossKD Table 9 (37.3 AP there). mmdet's zoo has no
# weights for it, so the coco profile needs teacher.checkpoint=PATH; the tiny profile trains it.
_base_ = 'mmdet::swin/retinanet_swin-t-p4-w7_fpn_1x_coco.py'
zoo_checkpoint = None
