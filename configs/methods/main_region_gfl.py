# LD's main-distillation-region feature imitation (Zheng et al., CVPR 2022) on GFL: CrossKD Table 7 row
# "Main Region*", 41.1 AP (GFL R101 -> R50). FitNets' MSE (1x1 adaptation conv) on the FPN locations the student's
# own label assignment (GFL's ATSS assigner) marks positive (`main_region` guide), averaged over those locations and
# channels per level, summed over levels. Form and weight 2.0: LD's released imitation code (HikariTJU/LD IMHead on
# its positive indices, configs/im/im_r101_r50_coco_1x.py loss_weight=2.0); it has no adaptation conv
# (distill.terms.neck.loss.adapt=False matches it).
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    terms=dict(
        neck=dict(feature='neck', guide=dict(type='main_region'), loss=dict(type='FitNetsLoss', kernel_size=1),
                  weight=2.0)))
