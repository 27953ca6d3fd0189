# RTMDet-L (CSPNeXt-L, 256-channel neck and head, twice RTMDet-S's width and three times its depth), 300 epochs:
# the teacher of RTMDet-S (issue 21), taken from mmdet's zoo (51.3 AP there).
_base_ = 'mmdet::rtmdet/rtmdet_l_8xb32-300e_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v3.0/rtmdet/rtmdet_l_8xb32-300e_coco/rtmdet_l_8xb32-300e_coco_20220719_112030-5a0be7c4.pth'
