# FGD on GFL (PGD Table 1, FGD row: 43.2 AP): R101 teacher -> R50 student, 1x. PGD Table 1 teacher 45.8 / student
# 40.2 AP; the paper's teachers are R101 3x multi-scale, ours is mmdet's GFL R101 2x multi-scale
# (configs/teachers/gfl_r101.py). Also CrossKD Table 7's FGD row (GFL R101 2x ms -> GFL R50 1x): 41.3 AP. FGD's
# anchor-based one-stage hyper-parameters (T 0.5, α 1e-3, β 5e-4, γ 5e-4, λ 5e-6; sources in _base_/fgd_terms.py);
# the authors released these very values for GFL R101 -> R50 (fgd_gfl_r101_distill_gfl_r50_fpn_1x_coco.py).
_base_ = ['../detectors/gfl_r50.py', './_base_/fgd_terms.py']
teacher = dict(config='configs/teachers/gfl_r101.py')
