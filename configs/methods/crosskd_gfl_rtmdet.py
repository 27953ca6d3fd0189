# CrossKD across families (issue 21, our extension): GFL R101 (2x multi-scale, P3-P7, 256 channels, GN, 4 tower
# layers) teacher -> RTMDet-S (P3-P5, 128 channels, BN, 2 tower layers) student.
# - layer 0: the heads have different depths, so no tower layer means the same thing in both; the student's FPN
#   maps (through the 128 -> 256 kd_adapters conv, re-normalised to the teacher's statistics) run through GFL's
#   whole head. The teacher's neck is cut to the student's levels (P3-P5, same strides).
# - the cross-head predictions are GFL's, so the terms are GFL's CrossKD (crosskd_gfl.py): QFL-style BCE on the
#   scores, / the number of positives of the student's (RTMDet) assignment; KL of the edge distributions weighted
#   by σ(teacher's max class logit), / the summed weights.
_base_ = ['../detectors/rtmdet_s.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    layer=0,
    renorm=True,
    adapt=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', region='teacher_score', norm='weight_sum',
                 loss=dict(type='DistributionKLKD', T=1.0, edges='mean'), weight=4.0)))
