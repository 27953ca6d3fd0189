# CrossKD on RetinaNet (CrossKD Table 8, 39.7 AP): RetinaNet R101 2x teacher -> R50 2x student, with the authors'
# released CrossKDRetinaNet (_base_/crosskd_box_terms.py): layer 3, QFL-style cls KD 1.0 and GIoU on decoded boxes
# 1.0, both divided by the number of positives (tests/distill/test_crosskd_released.py).
_base_ = ['../detectors/retinanet_r50_2x.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/retinanet_r101.py')
