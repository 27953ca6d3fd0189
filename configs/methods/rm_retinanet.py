# Rank Mimicking only (Li et al., AAAI 2022, "KD for Object Detection via Rank Mimicking and Prediction-guided
# Feature Imitation"): RetinaNet R101 teacher -> R50 student (configs/detectors/retinanet_r50.py, 1x).
# Sources: the paper's text was not retrievable here (only its abstract, /work/shared/papers/
# rank_mimicking_abstract_page.txt, and secondary summaries); the authors released no code. So:
# - candidates: each GT's positive anchors under the student head's own assignment (guide `candidates`, no iou_thr):
#   RetinaNet's MaxIoUAssigner, IoU >= 0.5 plus each GT's best anchor. The paper: "candidate boxes" = the anchors
#   assigned positive to an instance; set guide iou_thr=0.5 for a pure IoU threshold instead.
# - scores: the GT class's raw cls logit (score='logit'), softmax with temperature T = 1 (the paper's rank
#   distribution is a plain softmax as summarised; no temperature value found). Unverified.
# - weight 1.0: not found in any available source; unverified placeholder.
# - the paper's Table 4 also ranks by localisation quality; only the classification-score rank is implemented.
# - teacher: retinanet_r101 (2x, 38.9 AP, mmdet zoo). Secondary summaries list ResNet-50/101/152 teachers only (no
#   ResNeXt), and mmdet has no RetinaNet R152; the headline 40.4 AP teacher could not be confirmed.
_base_ = '../detectors/retinanet_r50.py'
teacher = dict(config='configs/teachers/retinanet_r101.py')
distill = dict(terms=dict(
    rm=dict(feature='pred_cls', guide=dict(type='candidates'),
            loss=dict(type='RankMimickingLoss', temperature=1.0, score='logit'), weight=1.0)))
