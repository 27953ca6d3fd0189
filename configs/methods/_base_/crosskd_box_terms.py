# CrossKD's terms for detectors that regress boxes from anchors or points (RetinaNet, ATSS, FCOS), as the
# authors' released configs set them: student features at tower layer 3, re-normalised to the teacher's
# per-channel statistics; QFL-style cls KD (β = 1) on all locations normalised by the number of positives; GIoU
# between decoded cross-head and teacher boxes, weighted by the teacher's max class probability.
distill = dict(
    layer=3,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', space='box', region='teacher_score',
                 loss=dict(type='BoxIoUKD', mode='giou'), weight=1.0)))
