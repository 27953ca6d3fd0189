# TOOD R50-FPN, 1x (anchor-free, TaskAlignedAssigner after 4 ATSS epochs): student of the TOOD pairs, our extension
# (no paper distils TOOD; FIDELITY.md, TOOD). mmdet 3.3's config as is (42.4 AP in its zoo).
_base_ = 'mmdet::tood/tood_r50_fpn_1x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/tood/tood_r50_fpn_1x_coco/tood_r50_fpn_1x_coco_20211210_103425-20e20746.pth'
