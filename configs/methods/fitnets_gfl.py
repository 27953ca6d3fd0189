# FitNets (Romero et al., ICLR 2015) on GFL: CrossKD Table 7 row "FitNets*", 40.7 AP (GFL R101 2x-ms teacher ->
# GFL R50 1x student). The starred imitation rows of that table carry the numbers of LD's feature-imitation
# comparison (Zheng et al., CVPR 2022), so LD's released imitation code is the source of the loss form and weight:
# - MSE between the FPN outputs, averaged over locations and channels per level, summed over the 5 levels
#   (HikariTJU/LD IMHead + IMLoss = F.mse_loss);
# - weight 2.0 (HikariTJU/LD configs/im/im_r101_r50_coco_1x.py: loss_im=dict(type='IMLoss', loss_weight=2.0)).
# - The trainable 1x1 conv is FitNets' regressor (student -> teacher width); LD's code compares the raw 256-wide maps.
#   For LD's exact form: distill.terms.neck.loss.adapt=False.
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='FitNetsLoss', kernel_size=1), weight=2.0)))
