# CrossKD on ATSS (CrossKD Table 8): ATSS R101 teacher -> R50 student. The authors' released CrossKDATSS: the box
# terms of _base_/crosskd_box_terms.py (layer 3, QFL-style cls KD 1.0 and GIoU 1.0, both divided by the number of
# positives; tests/distill/test_crosskd_released.py) plus centerness KD (BCE against the teacher's sigmoid
# centerness) 1.0 on the positives, divided by the number of positives.
_base_ = ['../detectors/atss_r50.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
distill = dict(terms=dict(
    centerness=dict(source='cross', pred='centerness', region='pos', loss=dict(type='CenternessKD'), weight=1.0)))
