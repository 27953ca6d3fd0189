# SKD (de Rijk et al., NeurIPS 2022) on GFL: CrossKD Table 7 row "SKD", 42.3 AP (GFL R101 -> R50).
# Σ over the 5 FPN outputs of mean (1 − SSIM)/2 between min-max-rescaled student and teacher maps
# (repro/distill/losses/ssim.py). Sources: the paper (Sec. 3; its authors name kornia's ssim_loss as the
# implementation; no official code is released):
# - 11x11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03, L = 1 after per-map min-max rescaling, α = β = γ = 1;
# - no adaptation conv: optional in the paper, and it made no difference for its homogeneous R101 -> R50 RetinaNet;
# - λ = 2: the paper's λ ablation finds 2 and 4 best (within ~0.5 AP of the other values); it was read from a
#   secondary summary of the paper, not the PDF: check it against the paper's ablation table.
_base_ = '../detectors/gfl_r50.py'
teacher = dict(config='configs/teachers/gfl_r101.py')
distill = dict(terms=dict(neck=dict(feature='neck', loss=dict(type='SKDLoss'), weight=2.0)))
