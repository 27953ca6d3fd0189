# Prediction mimicking and CrossKD together (CrossKD Table 4, last row): both pairs of cls and reg terms.
_base_ = './crosskd_gfl.py'
distill = dict(terms=dict(
    pm_cls=dict(source='student', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
    pm_reg=dict(source='student', pred='reg', region='teacher_score', loss=dict(type='DistributionKLKD', T=1.0),
                weight=4.0)))
