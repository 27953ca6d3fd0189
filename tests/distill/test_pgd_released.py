"""PGD as the authors' released code computes it (the default) against the form the paper prints (variant 'paper'):
each normaliser, the level weights, the top-K domain and the per-detector values, on cases worked out by hand.

The feature cases: N = 2 images, C = 2 channels, two FPN levels of 2 x 2 and 1 x 1 locations, τ = 1. Where the teacher
is zero, its attentions are uniform (A_t = 1 per channel, P_t = 1 per location), so only the student's attentions
need computing: a location with channel values (v, 0) has A = 2·softmax(v, 0) = (2e^v / (e^v + 1), 2 / (e^v + 1)).
"""
import math
from pathlib import Path

import pytest
import torch

from repro.distill.losses.pgd import PGDLoss
from repro.distill.pgw import pgw_weights, quality_scores

def channel_pair(v: float) -> tuple[float, float]:
    """A = C·softmax over two channels of (|v|, 0) / τ, τ = 1."""
    return 2 * math.exp(v) / (math.exp(v) + 1), 2 / (math.exp(v) + 1)


def d_a(v: float) -> float:
    """Σ_c |A_s − A_t| at a location where the student is (v, 0) and the teacher is zero (A_t = (1, 1))."""
    a0, a1 = channel_pair(v)
    return abs(a0 - 1) + abs(a1 - 1)


def d_p4(value: float) -> float:
    """Σ_locations |P_s − 1| on a 2 x 2 level whose student map is `value` at one location and 0 at the other three:
    P = 4·softmax(value, 0, 0, 0) = (4e^v / (e^v + 3), 4 / (e^v + 3) three times)."""
    z = math.exp(value) + 3
    return abs(4 * math.exp(value) / z - 1) + 3 * abs(4 / z - 1)


def feature_case():
    """Teacher zero everywhere. Student, level 0 (2 x 2): image 0 has 1.0 at channel 0 of location (0, 0); image 1
    has 2.0 at channel 1 of location (1, 1). Level 1 (1 x 1): image 0 has 1.0 at channel 0; image 1 is zero."""
    s0, s1 = torch.zeros(2, 2, 2, 2), torch.zeros(2, 2, 1, 1)
    s0[0, 0, 0, 0], s0[1, 1, 1, 1], s1[0, 0, 0, 0] = 1.0, 2.0, 1.0
    t0, t1 = torch.zeros_like(s0), torch.zeros_like(s1)
    return [s0, s1], [t0, t1]


def masks(fg0=(), bg0=(), fg1=()):
    """fg / bg per level (N, H, W) with the listed (image, row, col, value) entries."""
    fg, bg = [torch.zeros(2, 2, 2), torch.zeros(2, 1, 1)], [torch.zeros(2, 2, 2), torch.zeros(2, 1, 1)]
    for (n, r, c, v) in fg0:
        fg[0][n, r, c] = v
    for (n, r, c, v) in bg0:
        bg[0][n, r, c] = v
    for (n, r, c, v) in fg1:
        fg[1][n, r, c] = v
    return fg, bg


# --- 7. cls attention term ---------------------------------------------------------------------------------------
def test_cls_attention_term():
    student, teacher = feature_case()
    fg, bg = masks()
    # channel attention: level 0 differs at two locations (v = 1 in image 0, v = 2 in image 1), level 1 at one (v = 1)
    da0, da1 = d_a(1.0) + d_a(2.0), d_a(1.0)
    # released: spatial attention over the channel MEAN (image 0: 0.5 at one location; image 1: 1.0), per level
    #   δ·(Σ|ΔA| / (N·H·W) + Σ|ΔP| / N); on the 1 x 1 level P = 1 for everyone, so ΔP = 0
    dp_mean = d_p4(0.5) + d_p4(1.0)
    released = (da0 / (2 * 4) + dp_mean / 2) + (da1 / (2 * 1) + 0.0)
    loss = PGDLoss('cls', alpha=0.0, beta=0.0, delta=1.0, tau=1.0, spatial_over='mean')
    assert loss(student, teacher, fg, bg).item() == pytest.approx(released, rel=1e-6)
    # paper (eq. 7 and 8): P over the channel SUM (image 0: 1.0, image 1: 2.0), per level and image
    #   δ·(Σ|ΔP| / (H·W) + Σ|ΔA| / (C·H·W)), then / N
    dp_sum = d_p4(1.0) + d_p4(2.0)
    paper = (dp_sum / 4 + da0 / (2 * 4)) / 2 + (0.0 + da1 / (2 * 1)) / 2
    loss = PGDLoss('cls', alpha=0.0, beta=0.0, delta=1.0, tau=1.0, spatial_over='sum', form='paper')
    assert loss(student, teacher, fg, bg).item() == pytest.approx(paper, rel=1e-6)
    # the normaliser switch alone (paper form, P over the mean): (dp_mean / 4 + da0 / 8) / 2 + (da1 / 2) / 2
    loss = PGDLoss('cls', alpha=0.0, beta=0.0, delta=1.0, tau=1.0, spatial_over='mean', form='paper')
    assert loss(student, teacher, fg, bg).item() == pytest.approx((dp_mean / 4 + da0 / 8) / 2 + da1 / 4, rel=1e-6)
    assert released != pytest.approx(paper, rel=1e-2)


# --- 8. level weights multiply α and β only --------------------------------------------------------------------
@pytest.mark.parametrize('form', ['released', 'paper'])
def test_level_weights_multiply_the_feature_terms_only(form):
    student, teacher = feature_case()
    # M = 0.5 at image 0's differing location of level 0 (squared difference 1), N = 1/3 at image 1's (squared 4),
    # M = 1 at image 0's level-1 location (squared 1). Teacher attention is 1 everywhere.
    fg, bg = masks(fg0=[(0, 0, 0, 0.5)], bg0=[(1, 1, 1, 1 / 3)], fg1=[(0, 0, 0, 1.0)])
    alpha, beta = 0.1, 0.3
    f0 = (alpha * 0.5 * 1 + beta * (1 / 3) * 4) / 2          # Σ (αM + βN)·P_t·A_t·sq / N, level 0
    f1 = (alpha * 1.0 * 1) / 2                               # level 1
    kw = dict(alpha=alpha, beta=beta, delta=1.0, tau=1.0, spatial_over='mean', form=form)
    plain = PGDLoss('cls', **kw)(student, teacher, fg, bg).item()
    weighted = PGDLoss('cls', level_weights=[1.0, 2.0], **kw)(student, teacher, fg, bg).item()
    # the attention term (δ = 1, large here) is the same in both: the difference is (2 − 1)·f1 exactly
    assert weighted - plain == pytest.approx(f1, abs=1e-6)
    no_attention = PGDLoss('cls', **{**kw, 'delta': 0.0}, level_weights=[1.0, 2.0])(student, teacher, fg, bg).item()
    assert no_attention == pytest.approx(1.0 * f0 + 2.0 * f1, abs=1e-6)


# --- 9. and 10. reg terms ----------------------------------------------------------------------------------------
def reg_case():
    """Level 0 (2 x 2): image 0, location (0, 0): teacher (1, 0), student (0, 0) -> sq = (1, 0),
    A_t = (2e/(e+1), 2/(e+1)), A_s = (1, 1). Image 1, location (0, 1): teacher (0, 0), student (0, 3) -> sq = (0, 9),
    A_t = (1, 1), A_s = 2·softmax(0, 3). Image 1, location (1, 0): both zero. Level 1 (1 x 1): student (5, 0) in
    both images, teacher zero (so sq ≠ 0 and A_s ≠ A_t there), but no importance there.
    Importance I (un-normalised PGW): 0.8 at image 0 (0, 0); 0.4 at image 1 (0, 1); 0.2 at image 1 (1, 0).
    Eq. 4's M per image and level: image 0 has one non-zero (M = 0.8), image 1 two (M = 0.2, 0.1)."""
    t0, s0 = torch.zeros(2, 2, 2, 2), torch.zeros(2, 2, 2, 2)
    t0[0, 0, 0, 0] = 1.0
    s0[1, 1, 0, 1] = 3.0
    t1, s1 = torch.zeros(2, 2, 1, 1), torch.zeros(2, 2, 1, 1)
    s1[:, 0] = 5.0
    imp = [torch.zeros(2, 2, 2), torch.zeros(2, 1, 1)]
    imp[0][0, 0, 0], imp[0][1, 0, 1], imp[0][1, 1, 0] = 0.8, 0.4, 0.2
    m = [torch.zeros(2, 2, 2), torch.zeros(2, 1, 1)]
    m[0][0, 0, 0], m[0][1, 0, 1], m[0][1, 1, 0] = 0.8, 0.4 / 2, 0.2 / 2
    bg = [torch.zeros(2, 2, 2), torch.zeros(2, 1, 1)]
    return [s0, s1], [t0, t1], m, bg, imp


def test_reg_feature_term():
    student, teacher, m, bg, imp = reg_case()
    at0 = channel_pair(1.0)                                  # A_t at image 0 (0, 0)
    gamma = 1.6 * 0.5
    # released: n_pos = 3 locations with I ≠ 0 (pooled over the batch); γ · mean over them of I · mean_c(A_t·sq)
    #   image 0 (0, 0): mean_c(A_t·sq) = (at0[0]·1 + at0[1]·0)/2; image 1 (0, 1): (1·0 + 1·9)/2; (1, 0): 0
    released = gamma * (0.8 * at0[0] / 2 + 0.4 * 9 / 2 + 0.2 * 0) / 3
    loss = PGDLoss('reg', alpha=0.5, delta=0.0, tau=1.0)
    assert loss(student, teacher, m, bg, importance=imp).item() == pytest.approx(released, rel=1e-6)
    # paper (eq. 6): γ · Σ M · Σ_c A_t·sq / N, M per-level-normalised per image
    paper = gamma * (0.8 * at0[0] + 0.2 * 9 + 0.1 * 0) / 2
    loss = PGDLoss('reg', alpha=0.5, delta=0.0, tau=1.0, form='paper')
    assert loss(student, teacher, m, bg, importance=imp).item() == pytest.approx(paper, rel=1e-6)
    assert released != pytest.approx(paper, rel=1e-2)


def test_reg_attention_term():
    student, teacher, m, bg, imp = reg_case()
    at0 = channel_pair(1.0)
    d0 = abs(1 - at0[0]) + abs(1 - at0[1])                  # image 0 (0, 0): A_s = (1, 1)
    as1 = (2 / (1 + math.exp(3)), 2 * math.exp(3) / (1 + math.exp(3)))
    d1 = abs(as1[0] - 1) + abs(as1[1] - 1)                  # image 1 (0, 1): A_t = (1, 1)
    # released: δ · Σ over the n_pos = 3 locations and all channels of |ΔA|, / n_pos (not / C, not per image)
    loss = PGDLoss('reg', alpha=0.0, delta=1.0, tau=1.0)
    assert loss(student, teacher, m, bg, importance=imp).item() == pytest.approx((d0 + d1 + 0.0) / 3, rel=1e-6)
    # paper (eq. 9): per image Σ|ΔA| / (C · count of M ≠ 0), summed over images, / N
    paper = (d0 / (2 * 1) + (d1 + 0.0) / (2 * 2)) / 2
    loss = PGDLoss('reg', alpha=0.0, delta=1.0, tau=1.0, form='paper')
    assert loss(student, teacher, m, bg, importance=imp).item() == pytest.approx(paper, rel=1e-6)


def test_reg_level_without_importance_is_zero():
    student, teacher, m, bg, imp = reg_case()
    s1 = student[1].clone().requires_grad_(True)             # level 1: the student differs, but I = 0 everywhere
    out = PGDLoss('reg', alpha=0.5, delta=1.0, tau=1.0)([s1], [teacher[1]], [m[1]], [bg[1]], importance=[imp[1]])
    assert out.item() == 0.0
    out.backward()
    assert torch.equal(s1.grad, torch.zeros_like(s1))


# --- 6. the top-K domain -----------------------------------------------------------------------------------------
def gaussian(points, at):
    """exp(−½ dᵀΣ⁻¹d) at `at` of the MLE Gaussian (mean, 1/K covariance) of `points`, in plain Python."""
    k = len(points)
    mx, my = sum(p[0] for p in points) / k, sum(p[1] for p in points) / k
    a = sum((p[0] - mx) ** 2 for p in points) / k
    c = sum((p[1] - my) ** 2 for p in points) / k
    b = sum((p[0] - mx) * (p[1] - my) for p in points) / k
    dx, dy = at[0] - mx, at[1] - my
    return math.exp(-0.5 * (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / (a * c - b * b))


def test_topk_domain_image_against_box():
    # Five locations, one GT box [8, 8, 16, 16]: A, B, C, D inside (a square), E = (22, 14) outside (x > 16).
    A, B, C, D, Ev = (10, 10), (14, 10), (10, 14), (14, 14), (22, 14)
    priors = torch.tensor([A, B, C, D, Ev], dtype=torch.float)
    box = torch.tensor([[8.0, 8.0, 16.0, 16.0]])
    q = torch.tensor([[0.9, 0.8, 0.3, 0.2, 0.7]])            # quality WITHOUT the in-box indicator: E ranks 3rd
    lvl = torch.zeros(5, dtype=torch.long)
    kw = dict(k=4, gt_boxes=box, eps=0.0, normalise=False)
    # released (default): top 4 of the image = A, B, E, C; the Gaussian is fitted on those four, E is then zeroed
    # (outside the box) and D, though inside, is not in the top 4
    w = pgw_weights(q, priors, lvl, **kw)
    fit = [A, B, C, Ev]
    expect = [gaussian(fit, A), gaussian(fit, B), gaussian(fit, C), 0.0, 0.0]
    assert w.tolist() == pytest.approx(expect, abs=1e-6)
    # paper: top 4 of the in-box locations = the square A, B, C, D: each corner at dᵀΣ⁻¹d = 2 → exp(−1)
    w = pgw_weights(q, priors, lvl, topk_domain='box', **kw)
    assert w.tolist() == pytest.approx([math.exp(-1)] * 4 + [0.0], abs=1e-6)
    assert expect[0] != pytest.approx(math.exp(-1), abs=1e-3)   # E changed the Gaussian at A
    # topk_eq: 1 on the in-box members of the top 4
    assert pgw_weights(q, priors, lvl, strategy='topk_eq', **kw).tolist() == [1, 1, 1, 0, 0]
    assert pgw_weights(q, priors, lvl, strategy='topk_eq', topk_domain='box', **kw).tolist() == [1, 1, 1, 1, 0]
    # kde: the same supports
    assert (pgw_weights(q, priors, lvl, strategy='kde', **kw) > 0).tolist() == [True, True, True, False, False]
    assert (pgw_weights(q, priors, lvl, strategy='kde', topk_domain='box', **kw) > 0).tolist() == [
        True, True, True, True, False]


def test_ranking_quality_keeps_out_of_box_locations():
    # One GT [0, 0, 10, 10] of class 0; location centres (5, 5) inside and (15, 5) outside, both with p = 0.81 and a
    # predicted box equal to the GT (IoU = 1): ξ = 0.5 gives q = √0.81 · 1 = 0.9 at both without the indicator.
    priors = torch.tensor([[5.0, 5.0], [15.0, 5.0]])
    cls = torch.tensor([[0.81], [0.81]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0]] * 2)
    gt, labels = torch.tensor([[0.0, 0.0, 10.0, 10.0]]), torch.tensor([0])
    assert quality_scores(cls, boxes, priors, gt, labels, xi=0.5).tolist() == [[pytest.approx(0.9), 0.0]]
    assert quality_scores(cls, boxes, priors, gt, labels, xi=0.5, masked=False).tolist() == [
        [pytest.approx(0.9), pytest.approx(0.9)]]


# --- K, α, τ, δ per detector ---------------------------------------------------------------------------------------
# (K, α, τ) of the released code (work_configs/pgd_*.py and work_configs/*/..._distill_head.py) and the paper's α.
RELEASED = {
    'pgd_atss.py': (9, 0.08, 0.8, 0.8), 'pgd_atss_mbv2.py': (9, 0.04, 0.8, 0.8),
    'pgd_self_atss.py': (9, 0.08, 0.8, 0.8), 'pgd_gfl.py': (30, 0.04, 0.8, 0.8), 'pgd_ddod.py': (30, 0.08, 0.8, 0.8),
    'pgd_ddod_crowdhuman.py': (30, 0.001, 0.8, 0.8), 'pgd_fcos.py': (30, 0.04, 0.8, 0.4),
    'pgd_fcos_mbv2.py': (30, 0.04, 0.8, 0.4), 'pgd_self_fcos.py': (30, 0.04, 0.8, 0.4),
    'pgd_autoassign.py': (30, 0.08, 0.4, 0.4),
    # our extensions (issue 21, no released config): FCOS's released anchor-free values
    'pgd_rtmdet.py': (30, 0.04, 0.8, 0.4), 'pgd_yolox.py': (30, 0.04, 0.8, 0.4),
    # TOOD (ATSS-derived, one anchor per location): ATSS's released anchor-based values
    'pgd_tood.py': (9, 0.08, 0.8, 0.8),
}


def terms_of(method: str, variant: str):
    from repro.distill.losses import build_loss
    from repro.distill.terms import parse_distill
    from repro.plan.compile import load_config
    cfg = load_config(f'configs/methods/{method}').distill.to_dict()
    spec = parse_distill({**cfg, 'variant': variant}, 4)
    return {t.name: (t.guide, build_loss(t.loss)) for t in spec.terms}


def test_every_pgd_config_is_listed():
    assert sorted(p.name for p in Path('configs/methods').glob('pgd_*.py')) == sorted(RELEASED)


@pytest.mark.parametrize('method', sorted(RELEASED))
def test_released_values_per_detector(method):
    k, alpha, tau, _ = RELEASED[method]
    terms = terms_of(method, 'released')
    for name, xi in (('cls', 0.8), ('reg', 0.6)):
        guide, loss = terms[name]
        assert guide == dict(type='prediction_guided', xi=xi, k=k, strategy='ours', topk_domain='image')
        assert (loss.form, loss.alpha, loss.tau, loss.delta) == ('released', alpha, tau, 0.0008)
        assert loss.beta == pytest.approx(0.5 * alpha) and loss.gamma == pytest.approx(1.6 * alpha)
    assert terms['cls'][1].level_weights == [1.0, 1.25, 1.5, 1.75, 2.0] and terms['cls'][1].spatial_over == 'mean'
    assert not terms['reg'][1].level_weights


EXTENSIONS = {'pgd_rtmdet.py', 'pgd_yolox.py', 'pgd_tood.py'}


@pytest.mark.parametrize('method', sorted(RELEASED))
def test_the_student_inherits_the_teachers_neck_and_head_where_the_code_does(method):
    """Every released PGD config sets init_student=True (work_configs/pgd_*.py); our extensions keep the student's
    own initialisation, like the other methods they are compared with in ext:modern."""
    from repro.distill.terms import parse_distill
    from repro.plan.compile import load_config
    cfg = load_config(f'configs/methods/{method}').distill.to_dict()
    for variant in ('released', 'paper'):
        assert parse_distill({**cfg, 'variant': variant}, 4).inherit is (method not in EXTENSIONS)


@pytest.mark.parametrize('method', sorted(RELEASED))
def test_paper_values_per_detector(method):
    _, _, tau, paper_alpha = RELEASED[method]
    terms = terms_of(method, 'paper')
    for name in ('cls', 'reg'):
        guide, loss = terms[name]
        assert (guide['k'], guide['topk_domain']) == (30, 'box')
        assert (loss.form, loss.alpha, loss.tau, loss.delta) == ('paper', paper_alpha, tau, 0.0008)
    assert terms['cls'][1].level_weights is None and terms['cls'][1].spatial_over == 'sum'


def test_paper_variant_reaches_the_loss_and_the_guide(monkeypatch):
    """Built from the loaded config with distill.variant='paper', the guide runs PGW with the in-box domain and
    K = 30 and the losses are the paper form; without it, the released domain and K = 9 (ATSS)."""
    from repro.distill.guides import prediction_guided as guide_module
    from repro.distill.terms import parse_distill
    from repro.plan.compile import load_config
    cfg = load_config('configs/methods/pgd_atss.py').distill.to_dict()
    spec = parse_distill({**cfg, 'variant': 'paper'}, 4)
    assert {t.name: (t.guide['topk_domain'], t.guide['k'], t.loss['form']) for t in spec.terms} == {
        'cls': ('box', 30, 'paper'), 'reg': ('box', 30, 'paper')}
    from test_detector import batch, build
    original, calls = guide_module.pgw_weights, []
    monkeypatch.setattr(guide_module, 'pgw_weights',
                        lambda *a, **kw: calls.append((kw['topk_domain'], kw['k'])) or original(*a, **kw))
    for overrides, want, form in (([], ('image', 9), 'released'), (['distill.variant=paper'], ('box', 30), 'paper')):
        model, _ = build('pgd_atss.py', overrides)
        assert model.kd_losses['cls'].form == model.kd_losses['reg'].form == form
        calls.clear()
        losses = model.loss(*batch())
        assert calls and set(calls) == {want}
        assert torch.isfinite(losses['loss_kd_cls']) and torch.isfinite(losses['loss_kd_reg'])


@pytest.mark.parametrize('method', ['pgd_fcos.py', 'pgd_fcos_mbv2.py', 'defeat_fcos.py', 'fgd_fcos.py', 'fkd_fcos.py',
                                    'frs_fcos.py'])
def test_pgds_fcos_rows_train_the_fcos_the_authors_trained(method):
    """PGD's FCOS student and teacher (work_configs/detectors/fcos_r50_1x.py, fcos_r101_3x_ms.py) carry mmdet's
    center-sampling, box-in-strides and centerness-on-box-branch tricks with the IoU box loss, which mmdet's plain
    FCOS (36.6 AP, not PGD's 38.2) lacks; the student is pytorch-style with ImageNet pixel statistics and trains
    with gradients clipped at 35, a linear warm-up and no bias LR multiplier."""
    from repro.plan.compile import compile_config
    from repro.profiles import CONFIG_DIR
    cfg = compile_config(CONFIG_DIR / 'methods' / method, 'coco', [], check_data=False).cfg
    assert cfg.teacher.config == 'configs/teachers/fcos_r101_pgd.py'
    teacher = compile_config(CONFIG_DIR / 'teachers/fcos_r101_pgd.py', 'coco', [], check_data=False).cfg
    for model in (cfg.model.student, teacher.model):
        head = model['bbox_head']
        assert (head['norm_on_bbox'], head['centerness_on_reg'], head['center_sampling']) == (True, True, True)
        assert head['loss_bbox']['type'] == 'IoULoss'
        assert model['data_preprocessor']['std'] == [58.395, 57.12, 57.375]
    assert teacher.model.backbone.depth == 101
    if 'mbv2' not in method:
        assert cfg.model.student['backbone']['style'] == 'pytorch'
    assert 'paramwise_cfg' not in cfg.optim_wrapper and cfg.optim_wrapper.clip_grad.max_norm == 35
    assert cfg.param_scheduler[0].type == 'LinearLR'


# Every PGD table, and our tables on PGD's pair, train with the released gradient clipping (FIDELITY.md, PGD,
# "Gradient clipping").
CLIPPED_TABLES = ('pgd:table1', 'pgd:table2', 'pgd:table3', 'pgd:table4', 'pgd:table5', 'pgd:table6a',
                  'pgd:table6b', 'pgd:table7', 'ext:pgd_init', 'ext:pgd_teacher')


@pytest.mark.parametrize('table', CLIPPED_TABLES)
def test_pgd_tables_clip_the_students_gradients_like_the_released_1x_setting(table):
    """work_configs/base/1x_setting.py and crowdhuman_1x_setting.py, the base of every released student and
    distilled run, clip the gradient norm at 35; the teachers' 3x settings do not. Every student and distilled run
    of these tables clips at 35 whatever its detector config says; the teacher runs do not clip."""
    from repro.plan.dag import plan
    from repro.tables.spec import load_all, resolve
    spec, _ = resolve(table, load_all())
    runs = plan(spec, 'tiny', 1, check_data=False)
    roles = {run.role for run in runs}
    assert {'teacher', 'student', 'distilled'} <= roles  # a table without a teacher row plans its distillers' one
    for run in runs:
        clip = run.compiled.cfg.optim_wrapper.get('clip_grad')
        if run.role == 'teacher':
            assert clip is None, run.config
        else:
            assert dict(clip) == {'max_norm': 35, 'norm_type': 2}, run.config
