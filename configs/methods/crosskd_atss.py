# CrossKD on ATSS (CrossKD Table 8): ATSS R101 teacher -> R50 student. The authors' released config: layer 3,
# QFL-style cls KD 1.0, GIoU on decoded boxes 1.0, plus centerness KD (BCE against the teacher's centerness) 1.0
# on the positives.
_base_ = '../detectors/atss_r50.py'
teacher = dict(config='configs/teachers/atss_r101.py')
distill = dict(
    layer=3,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', space='box', region='teacher_score',
                 loss=dict(type='BoxIoUKD', mode='giou'), weight=1.0),
        centerness=dict(source='cross', pred='centerness', region='pos', loss=dict(type='CenternessKD'),
                        weight=1.0)))
