# Prediction-guided Feature Imitation only (Li et al., AAAI 2022): RetinaNet R101 teacher -> R50 student, on the
# FPN features (feature='neck'), each location's squared difference weighted by the detached prediction difference
# (guide `prediction_difference`). Sources: the paper's text was not retrievable here (abstract and secondary
# summaries only), no official code exists; the weight's form follows the paper's description and the only public
# re-implementation found (mmdet-style, third party): channel mean of the squared difference of the raw cls outputs
# (activation='none'), times the channel-mean squared feature difference, mean per level, then over levels.
# Weight 1.0: not found in any available source; unverified placeholder. Teacher: see rm_retinanet.py.
_base_ = '../detectors/retinanet_r50.py'
teacher = dict(config='configs/teachers/retinanet_r101.py')
distill = dict(terms=dict(
    pfi=dict(feature='neck', guide=dict(type='prediction_difference', preds=('cls',), activation='none'),
             loss=dict(type='PFILoss'), weight=1.0)))
