# PGD's decoupled distillation (PGD Sec. 3.3, eq. 5-10) of the first feature maps of the cls and reg towers (after
# the first conv and its activation: distill.layer=1, activate=True), with prediction-guided masks (PGW, eq. 1-4).
#
# The dict below is the authors' released code (github.com/ChenhongyiYang/PGD, "the code"; configs work_configs/
# pgd_*.py and work_configs/detectors/*_distill_head.py). Each per-detector config sets its own α, τ and K from its
# released config; β = 0.5α, γ = 1.6α, δ = 0.0008, ξ_cls = 0.8, ξ_reg = 0.6 and the cls level weights are the same
# in every released config (tests/distill/test_pgd_released.py::test_released_values_per_detector).
# What the code does, per FPN level l, N images (tests/distill/test_pgd_released.py):
# - PGW top-K (topk_domain='image'): the K locations of the whole image with the highest q = p^(1-ξ)·IoU^ξ, taken
#   without the in-box indicator; Gaussian (mean, 1/K covariance) fitted on all K, evaluated there, then values at
#   locations outside the GT box set to 0 (test_topk_domain_image_against_box). A ridge ε on Σ keeps degenerate fits
#   finite (tests/distill/test_pgw.py::test_degenerate_k1_collinear_and_coincident) where the code jitters the points
#   by random ±0.05 px.
# - cls: w_l·(α·Σ M·P_t·A_t·sq + β·Σ N·P_t·A_t·sq)/N + δ·(Σ|ΔA|/(N·H·W) + Σ|ΔP|/N), P over the channel MEAN of
#   |F|/τ (spatial_over='mean'); w_l = 1, 1.25, 1.5, 1.75, 2 multiplies the α and β terms only
#   (test_cls_attention_term, test_level_weights_multiply_the_feature_terms_only).
# - reg: over the n_pos locations of the batch with PGW importance I ≠ 0 (I un-normalised), γ·mean(I·mean_c(A_t·sq))
#   + δ·Σ|ΔA|/n_pos, 0 when n_pos = 0 (test_reg_feature_term, test_reg_attention_term,
#   test_reg_level_without_importance_is_zero).
#
# distill.variant='paper' selects the form the paper's text prints (variants.paper below;
# test_paper_variant_reaches_the_loss_and_the_guide, test_paper_values_per_detector):
# - PGW top-K over the in-box locations only (topk_domain='box'), K = 30 for every detector (the code: 9 for ATSS).
# - α = 0.8 anchor-based, 0.4 anchor-free (the anchor-free configs override the latter); the code uses 0.001-0.08.
# - PGDLoss form='paper': cls attention eq. 8, δ·(Σ|ΔP|/(H·W) + Σ|ΔA|/(C·H·W)) per image, then /N; reg eq. 6 with
#   the channel SUM and eq. 4's per-level-normalised M, /N; reg attention eq. 9 per image /(C·count), then /N.
# - P over the channel SUM of |F| (spatial_over='sum', eq. 7; at τ = 0.8 and 64-256 channels P is nearly one-hot)
#   and no level weights (the text has none).
# Not changed by the variant: τ, δ, ξ, β/α and γ/α.
distill = dict(
    layer=1,
    variant='released',  # distill.variant=paper selects variants.paper below
    terms=dict(
        cls=dict(feature='cls', activate=True,
                 guide=dict(type='prediction_guided', xi=0.8, k=30, strategy='ours', topk_domain='image'),
                 loss=dict(type='PGDLoss', branch='cls', form='released', alpha=0.08, delta=0.0008, tau=0.8,
                           spatial_over='mean', level_weights=[1.0, 1.25, 1.5, 1.75, 2.0]), weight=1.0),
        reg=dict(feature='reg', activate=True,
                 guide=dict(type='prediction_guided', xi=0.6, k=30, strategy='ours', topk_domain='image'),
                 loss=dict(type='PGDLoss', branch='reg', form='released', alpha=0.08, delta=0.0008, tau=0.8),
                 weight=1.0)),
    variants=dict(paper=dict(terms=dict(
        cls=dict(guide=dict(k=30, topk_domain='box'),
                 loss=dict(form='paper', alpha=0.8, spatial_over='sum', level_weights=None)),
        reg=dict(guide=dict(k=30, topk_domain='box'), loss=dict(form='paper', alpha=0.8))))))
