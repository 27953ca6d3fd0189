# LD (Zheng et al., CVPR 2022) with mmdet's own implementation (CrossKD Tables 1, 3, 4 and 7, "LD"): mmdet's
# KnowledgeDistillationSingleStageDetector with LDHead, KL on the edge distributions of the positives, T = 10,
# weight 0.25, as in mmdet's configs/ld. It is not expressed as repro terms because mmdet's LD weights each
# positive by the *student's* detached max score and sums rather than averages over positives.
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
model = dict(
    type='KnowledgeDistillationSingleStageDetector',
    bbox_head=dict(type='LDHead', loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))
