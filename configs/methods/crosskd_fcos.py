# CrossKD on FCOS (CrossKD Table 8): FCOS R101 teacher -> R50 student. The authors' released config: layer 2,
# QFL-style cls KD weight 0.4, IoU on decoded boxes (−log IoU, as mmdet's IoULoss) weight 0.75.
_base_ = '../detectors/fcos_r50.py'
teacher = dict(config='configs/teachers/fcos_r101.py')
distill = dict(
    layer=2,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=0.4),
        reg=dict(source='cross', pred='reg', space='box', region='teacher_score',
                 loss=dict(type='BoxIoUKD', mode='iou'), weight=0.75)))
