# FRS (Du et al., NeurIPS 2021) for one-stage detectors: the feature-richness score S (max over classes of the
# teacher's sigmoid class scores at each location, guide `feature_richness`) weights FPN feature imitation through a
# 3x3 adaptation conv per level (term frs_feat) and a BCE distillation of the class logits (term frs_cls), each
# normalised by Σ S per level, summed over levels (the authors' single-stage detector, duzhixing/FRS,
# detectors/distill_frs_single.py).
# Weights: feature 0.1, cls 0.05 = the authors' released GFL config (config/distill_frs/
# resnet50_resnet101_gfl_frs.py), the defaults here for GFL and the ATSS-style detectors (ATSS, DDOD), for which
# no config was released (our choice: GFL is ATSS's assigner and anchor with another loss). Anchor-free detectors
# override them with the released FCOS values. The released configs (GFL, FCOS, Faster R-CNN alike) also ramp both
# weights up linearly over the first 500 iterations (`distill_warm_step=500`: weight x iteration / 500, iteration
# counted from 0), as long as the COCO configs' LR warm-up; the tiny profile shortens both to its own warm-up.
distill = dict(
    terms=dict(
        frs_feat=dict(feature='neck', guide=dict(type='feature_richness'), loss=dict(type='FRSLoss', kind='feature'),
                      weight=0.1, warmup_iters=500),
        frs_cls=dict(feature='pred_cls', guide=dict(type='feature_richness'), loss=dict(type='FRSLoss', kind='cls'),
                     weight=0.05, warmup_iters=500)))
