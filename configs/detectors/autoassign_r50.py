# AutoAssign R50-FPN (caffe backbone), 1x: anchor-free student of PGD (Table 1).
_base_ = 'mmdet::autoassign/autoassign_r50-caffe_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/autoassign/auto_assign_r50_fpn_1x_coco/auto_assign_r50_fpn_1x_coco_20210413_115540-5e17991f.pth'
