# HEAD, CrossKD Table 5 row 3: Faster R-CNN R50 3x teacher (40.3) -> RetinaNet R18 1x student: 36.1 AP (31.7 alone).
# HEAD's own paper trains the student with multi-scale inputs; CrossKD's table lists it at 12e beside its
# single-scale students, so this runs the student's own 1x single-scale setting.
_base_ = ['../detectors/retinanet_r18.py', './_base_/head_assist.py']
teacher = dict(config='configs/teachers/faster_rcnn_r50_3x.py')
