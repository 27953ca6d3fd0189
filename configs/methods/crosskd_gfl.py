# CrossKD on GFL (CrossKD Tables 1, 3, 7): GFL R101 (2x, multi-scale) teacher -> GFL R50 student, 1x.
# The default is the authors' released CrossKDGFL (FIDELITY.md, tested in tests/distill/test_crosskd_released.py):
# student features at tower layer 3, re-normalised to the teacher's per-channel statistics.
# - cls: QFL-style BCE against the teacher's sigmoid scores, |σ(pred) − σ(teacher)|^β with β = 1, over every location
#   with a label weight, divided by the number of positives (GFL's own avg_factor); weight 1.0.
# - reg: per location, the KL of each edge's distribution (summed over its bins, T = 1) averaged over the 4 edges,
#   weighted by w = σ(teacher's max class logit) (0 where the label weight is 0), summed over all levels and divided
#   by the summed w; weight 4.0.
# `distill.variant=paper` selects eq. 3 as printed: the loss normalised by S = the summed region weights R, with
# R = 1 for cls (S = the number of locations) and R = the foreground indicator (the assigned positives) for reg.
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    layer=3,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', region='teacher_score', norm='weight_sum',
                 loss=dict(type='DistributionKLKD', T=1.0, edges='mean'), weight=4.0)),
    variant='released',
    variants=dict(paper=dict(terms=dict(cls=dict(norm='weight_sum'), reg=dict(region='pos')))))
