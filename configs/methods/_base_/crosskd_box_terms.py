# CrossKD's terms for detectors that regress boxes from anchors or points (RetinaNet, ATSS; FCOS changes them). The
# default is the authors' released CrossKD{RetinaNet,ATSS} (FIDELITY.md, tests/distill/test_crosskd_released.py):
# student features at tower layer 3, re-normalised to the teacher's per-channel statistics.
# - cls: QFL-style BCE (β = 1) over every location with a label weight, divided by the number of positives (the
#   detector's own cls avg_factor); weight 1.0.
# - reg: GIoU between the decoded cross-head and teacher boxes, weighted by w = σ(teacher's max class logit) (0 where
#   the label weight is 0), divided by the same number of positives; weight 1.0.
# `distill.variant=paper` selects eq. 3 as printed: normalised by S = the summed region weights R, with R = 1 for
# cls and R = the foreground indicator (the assigned positives) for reg.
distill = dict(
    layer=3,
    renorm=True,
    terms=dict(
        cls=dict(source='cross', pred='cls', region='all', loss=dict(type='QualityFocalKD', beta=1.0), weight=1.0),
        reg=dict(source='cross', pred='reg', space='box', region='teacher_score', norm='num_pos',
                 loss=dict(type='BoxIoUKD', mode='giou'), weight=1.0)),
    variant='released',
    variants=dict(paper=dict(terms=dict(cls=dict(norm='weight_sum'), reg=dict(region='pos', norm='weight_sum')))))
