# CrossKD on FCOS (CrossKD Table 8, 41.3 AP): FCOS R101 ms-2x teacher -> R50 ms-2x student. The authors' released
# CrossKDFCOS changes the box terms of _base_/crosskd_box_terms.py: layer 2; cls KD weight 0.4; IoU (−log IoU, as
# mmdet's IoULoss) weight 0.75; and both terms divided by the positives' summed centerness targets, FCOS's own
# box-loss normaliser, not by the number of positives (tests/distill/test_crosskd_released.py). The paper variant
# (distill.variant=paper) keeps the printed S of eq. 3 (see _base_/crosskd_box_terms.py).
_base_ = ['../detectors/fcos_r50_ms2x.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/fcos_r101.py')
distill = dict(layer=2, terms=dict(cls=dict(weight=0.4, norm='centerness_sum'),
                                   reg=dict(loss=dict(mode='iou'), weight=0.75, norm='centerness_sum')))
