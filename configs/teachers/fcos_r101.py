# FCOS R101-FPN (caffe backbone, GN head), 2x multi-scale 640-800: teacher for FCOS R50 students.
_base_ = 'mmdet::fcos/fcos_r101-caffe_fpn_gn-head_ms-640-800-2x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r101_caffe_fpn_gn-head_mstrain_640-800_2x_coco-511424d6.pth'
