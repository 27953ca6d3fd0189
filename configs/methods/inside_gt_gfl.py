# Inside GT Box imitation on GFL: CrossKD Table 7 row "Inside GT Box*", 40.7 AP (GFL R101 -> R50). FitNets' MSE
# (1x1 adaptation conv) on the FPN locations whose centre lies inside a GT box (`gt_box` guide), averaged over those
# locations and channels per level and summed over levels. Form and weight 2.0: LD's released imitation code, as
# for fitnets_gfl.py (LD's code has no adaptation conv: distill.terms.neck.loss.adapt=False matches it).
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    terms=dict(
        neck=dict(feature='neck', guide=dict(type='gt_box'), loss=dict(type='FitNetsLoss', kernel_size=1), weight=2.0)))
