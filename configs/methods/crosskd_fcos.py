# CrossKD on FCOS (CrossKD Table 8): FCOS R101 teacher -> R50 student. The authors' released config changes the
# box terms of _base_/crosskd_box_terms.py to layer 2, cls KD weight 0.4, and IoU (−log IoU, as mmdet's IoULoss)
# weight 0.75.
_base_ = ['../detectors/fcos_r50.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/fcos_r101.py')
distill = dict(layer=2, terms=dict(cls=dict(weight=0.4), reg=dict(loss=dict(mode='iou'), weight=0.75)))
