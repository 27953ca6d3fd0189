# PKD on TOOD (our extension; FIDELITY.md, TOOD): TOOD R101 -> R50, Pearson-correlation imitation of the 5 FPN maps,
# weight 6 per level (PKD's FPN setting, pkd_gfl.py). Both FPNs are 256 channels wide: no adapter.
_base_ = ['../detectors/tood_r50.py']
teacher = dict(config='configs/teachers/tood_r101.py')
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), weight=6.0)))
