# CrossKD on FCOS (CrossKD Table 8, 41.3 AP): FCOS R101 ms-2x teacher -> R50 ms-2x student. The authors' released
# config changes the box terms of _base_/crosskd_box_terms.py to layer 2, cls KD weight 0.4, and IoU (−log IoU, as
# mmdet's IoULoss) weight 0.75.
_base_ = ['../detectors/fcos_r50_ms2x.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/fcos_r101.py')
distill = dict(layer=2, terms=dict(cls=dict(weight=0.4), reg=dict(loss=dict(mode='iou'), weight=0.75)))
