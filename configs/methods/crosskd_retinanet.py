# CrossKD on RetinaNet (CrossKD Table 8): RetinaNet R101 teacher -> R50 student. The authors' released config:
# layer 3, QFL-style cls KD weight 1.0, GIoU on decoded boxes weight 1.0 (teacher-score weighted).
_base_ = '../detectors/retinanet_r50.py'
teacher = dict(config='configs/teachers/retinanet_r101.py')
distill = dict(
    layer=3,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', space='box', region='teacher_score',
                 loss=dict(type='BoxIoUKD', mode='giou'), weight=1.0)))
