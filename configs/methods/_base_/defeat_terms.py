# DeFeat's decoupled neck imitation (Guo et al., CVPR 2021): the FPN outputs inside GT boxes (`gt_box` guide) and
# outside every box, each normalised by its own location count (and 2·C), averaged over levels, through one 3x3
# adaptation conv per FPN level (the detector sets num_levels to its levels). Sources (repro/distill/losses/defeat.py
# has the formula):
# - weights fg 3, bg 12 and the normalisation: the authors' released code and config (ggjy/DeFeat.pytorch,
#   configs/kd_faster_rcnn/voc_stu_faster_rcnn_r50_decouple_neck.py: hint_neck_w=3, hint_neck_back_w=12); it is
#   the only released config (Faster R-CNN on VOC); no COCO one-stage config is public, so the same values are
#   used for every dense detector here.
# - the head part of DeFeat (decoupled RoI classification KL, head_cls_w=2) needs RoIs and is left out, as in
#   PGD's and CrossKD's comparisons of DeFeat on dense detectors.
# - no KD annealing: the released config's type string holds no 'decay'.
distill = dict(
    terms=dict(
        neck=dict(feature='neck', guide=dict(type='gt_box'),
                  loss=dict(type='DeFeatLoss', fg_weight=3.0, bg_weight=12.0, kernel_size=3),
                  weight=1.0)))
