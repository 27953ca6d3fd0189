# DDOD R50-FPN, 1x: anchor-based student of PGD (Table 1). As in mmdet's config, the first layer of each head tower
# is a deformable conv (use_dcn=True), which mmcv runs only on maps of at least 3x3: every FPN level, P7 (stride
# 128) included, needs an input of at least 384 px.
_base_ = 'mmdet::ddod/ddod_r50_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/ddod/ddod_r50_fpn_1x_coco/ddod_r50_fpn_1x_coco_20220523_223737-29b2fc67.pth'
