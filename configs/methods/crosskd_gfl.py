# CrossKD on GFL (CrossKD Tables 1, 3, 7): GFL R101 (2x, multi-scale) teacher -> GFL R50 student, 1x.
# Defaults follow the authors' released config: student features at tower layer 3, re-normalised to the
# teacher's per-channel statistics; cls KD is QFL-style BCE against the teacher's sigmoid scores with
# |σ(pred) − target|^β, β = 1, weight 1.0, over all locations, normalised by the number of positives; reg KD is
# KL on GFL's edge distributions, T = 1, summed over the 4 edges, weight 4.0, weighted by the teacher's max class
# probability (label weights × max score), normalised by the summed weights.
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    layer=3,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', region='teacher_score', loss=dict(type='DistributionKLKD', T=1.0),
                 weight=4.0)))
