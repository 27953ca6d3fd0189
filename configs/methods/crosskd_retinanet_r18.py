# CrossKD, CrossKD Table 5 row 7: RetinaNet R50 3x teacher (39.5) -> RetinaNet R18 1x student: 36.7 AP, with the
# authors' RetinaNet settings (_base_/crosskd_box_terms.py).
_base_ = ['../detectors/retinanet_r18.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/retinanet_r50_3x.py')
