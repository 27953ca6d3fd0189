# YOLOX-L (CSPDarknet at deepen 1.0 / widen 1.0, 256-channel neck and head, twice YOLOX-S's width and three times its
# depth), 300 epochs: the teacher of YOLOX-S (issue 21), taken from mmdet's zoo (49.4 AP there).
_base_ = 'mmdet::yolox/yolox_l_8xb8-300e_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/yolox/yolox_l_8x8_300e_coco/yolox_l_8x8_300e_coco_20211126_140236-d3bd2b23.pth'
