"""PGD's loss against hand-computed cases, its masks on a real head, and where its gradients go."""
import math

import pytest
import torch

from repro.distill.losses.pgd import PGDLoss, channel_attention, spatial_attention
from repro.errors import ReproError

T05 = math.tanh(0.5)  # 2·e/(e + 1) − 1: how far a 2-way softmax of (1, 0) times 2 is from 1


def one_hot_case():
    """One image, 2 channels, 1 x 2 locations: teacher all zero, student 1 at (channel 0, location 0)."""
    teacher = torch.zeros(1, 2, 1, 2)
    student = torch.zeros(1, 2, 1, 2)
    student[0, 0, 0, 0] = 1.0
    return student, teacher, torch.tensor([[[0.5, 0.0]]]), torch.tensor([[[0.0, 0.0]]])


def test_attention_definitions():
    feat = torch.randn(2, 3, 4, 5)
    assert torch.allclose(spatial_attention(feat, 0.8).sum((1, 2)), torch.full((2,), 20.0))  # H·W
    assert torch.allclose(channel_attention(feat, 0.8).sum(1), torch.full((2, 4, 5), 3.0))   # C
    assert torch.allclose(spatial_attention(torch.zeros(1, 2, 1, 2), 1.0), torch.ones(1, 1, 2))


def test_cls_branch_by_hand():
    student, teacher, fg, bg = one_hot_case()
    # feature (eq. 5): teacher attention P = A = 1 everywhere; only location 0, channel 0 differs (squared 1),
    #   weighted by α·M = 0.1·0.5 -> 0.05 (N = 1)
    # P over the channel mean (the authors' code): student P = 2·softmax(½, 0) = (1 + tanh ¼, 1 − tanh ¼):
    #   Σ|ΔP| = 2·tanh ¼; student A at location 0 = (1 + tanh ½, 1 − tanh ½), at location 1 = (1, 1): Σ|ΔA| = 2·tanh ½
    # released (default): δ·(Σ|ΔA| / (N·H·W) + Σ|ΔP| / N) = 0.01·(2·tanh ½ / 2 + 2·tanh ¼)
    loss = PGDLoss('cls', alpha=0.1, delta=0.01, tau=1.0, spatial_over='mean')
    expected = 0.05 + 0.01 * (T05 + 2 * math.tanh(0.25))
    assert loss([student], [teacher], [fg], [bg]).item() == pytest.approx(expected, abs=1e-6)
    # the printed normalisers (eq. 8): δ·(Σ|ΔP| / HW + Σ|ΔA| / CHW) = 0.01·(2·tanh ¼ / 2 + 2·tanh ½ / 4)
    paper = PGDLoss('cls', alpha=0.1, delta=0.01, tau=1.0, spatial_over='mean', form='paper')
    expected = 0.05 + 0.01 * (math.tanh(0.25) + T05 / 2)
    assert paper([student], [teacher], [fg], [bg]).item() == pytest.approx(expected, abs=1e-6)
    # as eq. 7 prints it (the channel sum): student P = 2·softmax(1, 0), Σ|ΔP| / HW = tanh ½
    summed = PGDLoss('cls', alpha=0.1, delta=0.01, tau=1.0, spatial_over='sum', form='paper')
    assert summed([student], [teacher], [fg], [bg]).item() == pytest.approx(0.05 + 0.01 * (T05 + T05 / 2), abs=1e-6)


def test_reg_branch_by_hand():
    student, teacher, fg, bg = one_hot_case()
    importance = [torch.tensor([[[0.5, 0.0]]])]  # un-normalised PGW I; one non-zero location -> n_pos = 1
    # released (default): γ = 1.6α = 0.16; feature = γ · mean over n_pos of I · mean_c(A_t·sq) = 0.16·0.5·(1/2) = 0.04
    #   attention = δ · Σ|ΔA| over the n_pos location and its channels / n_pos = 0.01·2·tanh ½
    loss = PGDLoss('reg', alpha=0.1, delta=0.01, tau=1.0)
    got = loss([student], [teacher], [fg], [bg], importance=importance).item()
    assert got == pytest.approx(0.04 + 0.01 * 2 * T05, abs=1e-6)
    with pytest.raises(ReproError, match="'importance'"):
        loss([student], [teacher], [fg], [bg])
    # paper (eq. 6, 9): γ·M·Σ_c sq = 0.16·0.5·1 = 0.08; eq. 9: Σ|ΔA| = 2·tanh ½ over C·1 = 2 locations-channels
    paper = PGDLoss('reg', alpha=0.1, delta=0.01, tau=1.0, form='paper')
    assert paper([student], [teacher], [fg], [bg]).item() == pytest.approx(0.08 + 0.01 * T05, abs=1e-6)


def test_background_weight_level_weights_and_batch_mean():
    student, teacher, fg, _ = one_hot_case()
    bg = torch.tensor([[[1.0, 0.0]]])
    plain = PGDLoss('cls', alpha=0.0, beta=0.2, delta=0.0, tau=1.0)
    assert plain([student], [teacher], [fg], [bg]).item() == pytest.approx(0.2, abs=1e-6)  # β·N only
    weighted = PGDLoss('cls', alpha=0.0, beta=0.2, delta=0.0, tau=1.0, level_weights=[1.0, 2.0])
    two_levels = weighted([student, student], [teacher, teacher], [fg, fg], [bg, bg]).item()
    assert two_levels == pytest.approx(0.2 * 3, abs=1e-6)
    batch = plain([student.repeat(2, 1, 1, 1)], [teacher.repeat(2, 1, 1, 1)], [fg.repeat(2, 1, 1)],
                  [bg.repeat(2, 1, 1)]).item()
    assert batch == pytest.approx(0.2, abs=1e-6)  # averaged over images


def test_bad_branch():
    with pytest.raises(ReproError, match="PGDLoss branch is 'box'"):
        PGDLoss('box')
    with pytest.raises(ReproError, match="PGDLoss spatial_over is 'max'"):
        PGDLoss('cls', spatial_over='max')
    with pytest.raises(ReproError, match="PGDLoss form is 'text'"):
        PGDLoss('cls', form='text')


def test_masks_lie_on_the_objects_of_a_real_head():
    from test_detector import batch, build
    from repro.distill.guides.prediction_guided import prediction_guided_maps
    model, _ = build('pgd_atss.py')
    inputs, samples = batch()
    with torch.no_grad():
        t_out = model.teacher_adapter.forward(model.teacher.extract_feat(inputs), 1)
    # the released reg loss gets the un-normalised I: M is I over its non-zero count per image and level (eq. 4)
    maps = prediction_guided_maps(model.teacher_adapter, t_out, samples, xi=0.8, k=5)
    fg, bg = maps['fg'], maps['bg']
    for m, i in zip(maps['fg'], maps['importance']):
        count = (i > 0).sum((1, 2), keepdim=True).clamp(min=1)
        assert torch.allclose(m, i / count) and torch.equal(m > 0, i > 0)
    assert [m.shape for m in fg] == [m.shape[:1] + m.shape[2:] for m in t_out.preds['cls']]
    strides = [8, 16, 32, 64, 128]
    offset = model.teacher.bbox_head.prior_generator.center_offset  # mmdet anchors: centres at x·stride
    for n, sample in enumerate(samples):
        boxes = sample.gt_instances.bboxes
        selected = sum(int((m[n] > 0).sum()) for m in fg)
        assert 0 < selected <= 5 * len(boxes)
        for level, (m, b) in enumerate(zip(fg, bg)):
            ys, xs = torch.nonzero(m[n] > 0, as_tuple=True)
            cx, cy = (xs.float() + offset) * strides[level], (ys.float() + offset) * strides[level]
            inside = ((cx[:, None] > boxes[:, 0]) & (cx[:, None] < boxes[:, 2]) &
                      (cy[:, None] > boxes[:, 1]) & (cy[:, None] < boxes[:, 3])).any(1)
            assert inside.all(), 'foreground weight outside every GT box (an x/y swap?)'
            if (b[n] > 0).any():
                assert b[n].sum().item() == pytest.approx(1.0, abs=1e-5)  # normalised per level


def test_pgd_gradients_reach_the_first_tower_layer_only():
    from test_detector import head_layer_params, kd_grads
    from test_detector import build
    model, _ = build('pgd_atss.py')
    reached, losses = kd_grads(model)
    assert torch.isfinite(losses['loss_kd_cls']) and torch.isfinite(losses['loss_kd_reg'])
    for branch in ('cls', 'reg'):
        assert all(n in reached for n in head_layer_params(model, branch, 0))
        assert not any(n in reached for i in (1, 2, 3) for n in head_layer_params(model, branch, i))
    assert not any(n.startswith(('bbox_head.atss_', 'bbox_head.scales')) for n in reached)
    assert any(n.startswith('backbone.') for n in reached)
