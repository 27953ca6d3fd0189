# FCOS R50-FPN (caffe backbone, GN head), 2x multi-scale 640-800: the student of CrossKD Table 8 (38.5 AP there).
# The paper takes its students' settings and baselines from mmdet's zoo, and 38.5 is this zoo model (the 1x one,
# configs/detectors/fcos_r50.py, is 36.6).
_base_ = 'mmdet::fcos/fcos_r50-caffe_fpn_gn-head_ms-640-800-2x_coco.py'
zoo_checkpoint = 'https://download.openmmlab.com/mmdetection/v2.0/fcos/fcos_r50_caffe_fpn_gn-head_mstrain_640-800_2x_coco/fcos_r50_caffe_fpn_gn-head_mstrain_640-800_2x_coco-d92ceeea.pth'
