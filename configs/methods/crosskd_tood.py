# CrossKD on TOOD (our extension: no paper reports it; FIDELITY.md, TOOD): TOOD R101 (2x, multi-scale) teacher ->
# TOOD R50 student, 1x. Terms of _base_/crosskd_box_terms.py (TOOD's box loss is GIoU on decoded boxes, as
# RetinaNet/ATSS's CrossKD compares them):
# - layer 1 of the TOOD adapter's 1: the concatenated pre-activation outputs of the student's whole inter_convs
#   stack run through the teacher's task decomposition, predictors and alignment branches (the stack is shared and
#   its decomposition reads every layer, so no inner layer is a position); re-normalised to the teacher's statistics.
# - cls: QFL-style BCE against the teacher's aligned scores σ(logit) = sqrt(σ(cls)·σ(cls_prob)), over every location
#   with a label weight, / the number of positives of the student's assignment (ATSS, then task-aligned).
# - reg: GIoU of the cross-head's and the teacher's boxes (stride units times the stride), weighted by the teacher's
#   max aligned score, / the same count.
_base_ = ['../detectors/tood_r50.py', './_base_/crosskd_box_terms.py']
teacher = dict(config='configs/teachers/tood_r101.py')
distill = dict(layer=1)
