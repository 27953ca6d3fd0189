# GID on GFL (CrossKD Table 7, GID* row: 41.5 AP; teacher GFL R101 2x ms 44.9, student GFL R50 1x 40.2).
# GID (Dai et al., CVPR 2021) selects general instances (GIs) by the teacher-student score gap (guide
# `general_instances`) and distils their RoIAligned FPN features, the relation between them and the head's responses
# on the priors assigned to them. The guide's defaults are the selection below. Hyper-parameters from the authors'
# released reproduction (daixinghome/Distill_GID_detectron2, GID/config/Distill_RetinaNet_T_Res101_S_Res50_2x.yaml,
# RetinaNet R101 -> R50; no GFL config was released):
# - selection: K = 10 GIs per image, NMS IoU 0.3 (per level), 3000 candidates per level, boxes of at most 10 px
#   dropped; response priors: IoU >= 0.5 with a GI or a GI's best prior (RetinaNet's matcher, which that code uses).
# - feature: weight 5e-4, RoIAlign 10x10 (sampling ratio 2, aligned), squared error summed over channels / (GIs x
#   100 cells). (gid/config.py's default weight is 5e-3; the released experiment config sets 5e-4.)
# - relation: weight 40, smooth-L1 (beta 1) between mean-normalised pairwise distances. Per image here; that code
#   pools the GIs of the whole batch.
# - response: cls BCE against the teacher's sigmoid, weight 0.1; reg L1, weight 1.0, both / number of assigned priors.
# Simplifications (see repro/distill/losses/gid.py): GID defines the reg response on box deltas; GFL regresses
# 4 distributions of 17 logits, so the L1 runs on those logits, scaled by 4/68 (each coordinate the mean over its
# bins). The feature adapter is a 3x3 conv on the student's RoI features (the paper's f_adapt; the released code never
# applies its adapter).
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    terms=dict(
        gid_feature=dict(feature='neck', guide=dict(type='general_instances'),
                         loss=dict(type='GIDFeatureLoss', output_size=10), weight=5e-4),
        gid_relation=dict(feature='neck', guide=dict(type='general_instances'),
                          loss=dict(type='GIDRelationLoss', output_size=10), weight=40.0),
        gid_cls=dict(feature='pred_cls', guide=dict(type='general_instances'),
                     loss=dict(type='GIDResponseLoss', kind='cls'), weight=0.1),
        gid_reg=dict(feature='pred_reg', guide=dict(type='general_instances'),
                     loss=dict(type='GIDResponseLoss', kind='reg'), weight=1.0)))
