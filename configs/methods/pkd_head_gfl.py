# PKD on the detection head (CrossKD Table 2, "PKD:cls+reg"): Pearson-correlation imitation of the cls and reg
# tower features at distill.layer (3, as CrossKD). "PKD:cls" and "PKD:reg" switch one term off, e.g.
# distill.terms.reg.weight=0. Weight 6 per level as PKD's FPN setting (the paper does not give a head weight).
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    layer=3,
    terms=dict(cls=dict(feature='cls', loss=dict(type='PKDLoss'), weight=6.0),
               reg=dict(feature='reg', loss=dict(type='PKDLoss'), weight=6.0)))
