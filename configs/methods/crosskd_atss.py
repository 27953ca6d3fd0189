# CrossKD on ATSS (CrossKD Table 8): ATSS R101 teacher -> R50 student. The authors' released config: the box terms
# of _base_/crosskd_box_terms.py (layer 3, QFL-style cls KD 1.0, GIoU 1.0) plus centerness KD (BCE against the
# teacher's centerness) 1.0 on the positives.
_base_ = ['../detectors/atss_r50.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/atss_r101.py')
distill = dict(terms=dict(
    centerness=dict(source='cross', pred='centerness', region='pos', loss=dict(type='CenternessKD'), weight=1.0)))
