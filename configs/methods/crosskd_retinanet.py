# CrossKD on RetinaNet (CrossKD Table 8): RetinaNet R101 teacher -> R50 student, with the authors' released
# settings (_base_/crosskd_box_terms.py): layer 3, QFL-style cls KD 1.0, GIoU on decoded boxes 1.0.
_base_ = ['../detectors/retinanet_r50.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/retinanet_r101.py')
