# RM + PFI (Li et al., AAAI 2022, the headline: RetinaNet R50 36.9 -> 40.4 AP on COCO): RetinaNet R101 teacher ->
# R50 student, 1x. The RM term and every hyper-parameter's source as in rm_retinanet.py; the PFI term exactly as
# in pfi_retinanet.py (same guide, loss and weight). Unverified: the paper's loss weights and its headline teacher.
_base_ = './rm_retinanet.py'
distill = dict(terms=dict(
    pfi=dict(feature='neck', guide=dict(type='prediction_difference', preds=('cls',), activation='none'),
             loss=dict(type='PFILoss'), weight=1.0)))
