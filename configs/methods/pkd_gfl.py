# PKD (Cao et al., 2022) on GFL, CrossKD Table 2: Pearson-correlation feature imitation, here on the FPN
# features ("PKD:neck"). Weight 6 per level is PKD's FPN setting as released in mmrazor. For PKD on the head
# (Table 2's cls / reg / cls+reg rows) use `feature='cls'` or 'reg' at distill.layer (3, as CrossKD), e.g.
#   python -m repro.train configs/methods/pkd_gfl.py distill.terms.neck.feature=cls
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(
    layer=3,
    terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
