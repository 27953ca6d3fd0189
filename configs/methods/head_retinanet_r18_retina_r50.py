# HEAD, CrossKD Table 5 row 5: RetinaNet R50 3x teacher (39.5) -> RetinaNet R18 1x student: 35.7 AP. With a
# homogeneous teacher the assistant is a copy of the teacher's RetinaNet head.
_base_ = ['../detectors/retinanet_r18.py', './_base_/head_assist.py']
teacher = dict(config='configs/teachers/retinanet_r50_3x.py')
