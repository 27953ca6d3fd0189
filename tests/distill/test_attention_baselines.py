"""FGD, FKD, FRS and GID: each loss against a case computed by hand, their guides on tall and wide boxes, and where
their gradients go on real detectors."""
import math
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from repro.distill.guides import KDContext, run_guide
from repro.distill.guides.general_instances import response_mask, select_general_instances
from repro.distill.losses import build_loss
from repro.distill.losses.fgd import FGDLoss, GcBlock, global_channel_attention, mean_spatial_attention
from repro.distill.losses.fkd import FKDLoss
from repro.distill.losses.frs import FRSLoss
from repro.distill.losses.gid import (GIDFeatureLoss, GIDRelationLoss, GIDResponseLoss, relation_loss, roi_features,
                                      roi_levels)
from repro.distill.losses.pgd import spatial_attention
from repro.errors import ReproError

T05 = math.tanh(0.5)  # 2·softmax(1, 0) − 1: a 2-way attention of (0.5, 0) / T = 0.5, minus the uniform 1
LN2, LN3 = math.log(2), math.log(3)
STRIDES = [8, 16, 32, 64, 128]


def one_hot_case():
    """One image, 2 channels, 1 x 2 locations: teacher all zero, student 1 at (channel 0, location 0)."""
    student = torch.zeros(1, 2, 1, 2)
    student[0, 0, 0, 0] = 1.0
    return student, torch.zeros(1, 2, 1, 2)


def identity_(conv: nn.Module) -> None:
    """Make a conv (1x1 or 3x3, padding 1) or linear layer between equal widths the identity."""
    with torch.no_grad():
        conv.weight.zero_()
        conv.bias.zero_()
        if conv.weight.dim() == 2:
            conv.weight.copy_(torch.eye(conv.weight.shape[0]))
        else:
            k = conv.weight.shape[-1] // 2
            conv.weight[:, :, k, k] = torch.eye(conv.weight.shape[0])


# --- FGD -------------------------------------------------------------------------------------------------------
def test_fgd_attention_definitions():
    feat = torch.randn(2, 3, 4, 5)
    assert torch.allclose(mean_spatial_attention(feat, 0.5).sum((1, 2)), torch.full((2,), 20.0))   # H·W
    assert torch.allclose(global_channel_attention(feat, 0.5).sum(1), torch.full((2,), 3.0))      # C
    # the mean over channels at T is PGD's sum over channels at C·T
    assert torch.allclose(mean_spatial_attention(feat, 0.5), spatial_attention(feat, 1.5))
    # global channel attention: one weight per channel, the same at every location
    assert global_channel_attention(feat, 0.5).shape == (2, 3)


def test_fgd_by_hand():
    student, teacher = one_hot_case()
    fg, bg = torch.tensor([[[0.5, 0.0]]]), torch.tensor([[[0.0, 1.0]]])
    loss = FGDLoss(2, 2, temperature=0.5, alpha=0.1, beta=0.2, gamma=0.01, lambda_=0.001, num_levels=1)
    # teacher attention: all-zero map -> A^S = A^C = 1 everywhere
    # focal: only (channel 0, location 0) differs (squared 1), fg = 0.5: α·0.5 = 0.05; bg is 1 where they agree: 0
    # attention: student mean |F| is (0.5, 0) over locations and over channels: 2·softmax(1, 0) = 1 ± tanh ½,
    #   Σ|ΔA^S| = Σ|ΔA^C| = 2·tanh ½, times γ
    # global: R starts as the identity (W_v2 = 0), so Σ(R_t − R_s)² = 1, times λ
    expected = 0.05 + 0.01 * 4 * T05 + 0.001
    assert loss([student], [teacher], [fg], [bg]).item() == pytest.approx(expected, abs=1e-6)
    # averaged over images
    two = loss([student.repeat(2, 1, 1, 1)], [teacher.repeat(2, 1, 1, 1)], [fg.repeat(2, 1, 1)],
               [bg.repeat(2, 1, 1)])
    assert two.item() == pytest.approx(expected, abs=1e-6)


def test_gcblock_adds_one_global_context_vector():
    block = GcBlock(4)
    for p in block.parameters():
        nn.init.normal_(p)
    feat = torch.randn(2, 4, 3, 5)
    added = block(feat) - feat
    assert torch.allclose(added, added[:, :, :1, :1].expand_as(added), atol=1e-5)  # the same at every location
    assert added.abs().sum() > 0


def test_fgd_aligns_a_narrower_student():
    loss = build_loss({'type': 'FGDLoss', 'num_levels': 1}, student_channels=3, teacher_channels=4)
    assert isinstance(loss.align[0], nn.Conv2d) and loss.align[0].weight.shape == (4, 3, 1, 1)
    masks = torch.rand(2, 4, 4)
    assert torch.isfinite(loss([torch.randn(2, 3, 4, 4)], [torch.randn(2, 4, 4, 4)], [masks], [1 - masks]))
    assert isinstance(FGDLoss(4, 4, num_levels=1).align[0], nn.Identity)  # FGD's code: no conv for equal widths


# --- FKD -------------------------------------------------------------------------------------------------------
def test_fkd_by_hand():
    student, teacher = one_hot_case()
    loss = FKDLoss(2, 2, temperature=0.5, alpha=0.1, beta=0.01, gamma=0.001, num_levels=1, nonlocal_inter=(None,),
                   nonlocal_pool=(2,))
    for layer in (loss.adapt[0], loss.adapt_spatial[0], loss.adapt_channel[0], loss.adapt_nonlocal[0]):
        identity_(layer)
    # masks: the average of teacher (1, 1) and student (1 ± tanh ½) attention: 1 + tanh ½ / 2 at location 0 and at
    #   channel 0; the only difference (squared 1) sits there: L_AM = ((1 + tanh ½ / 2)²)^½
    # L_AT: student mean |F| over channels (0.5, 0) and over locations (0.5, 0), teacher's zero: 0.5 + 0.5
    # L_NLD: the non-local blocks start as the identity (BN scale 0): ‖s − t‖ = 1
    expected = 0.1 * (1 + T05 / 2) + 0.01 * 1.0 + 0.001 * 1.0
    assert loss([student], [teacher]).item() == pytest.approx(expected, abs=1e-6)


def test_fkd_nonlocal_pools_a_1x1_map():
    loss = FKDLoss(4, 4)
    feats = [torch.randn(2, 4, s, s) for s in (16, 8, 4, 2, 1)]
    assert torch.isfinite(loss(feats, [f + 1 for f in feats]))


# --- FRS -------------------------------------------------------------------------------------------------------
def test_frs_feature_by_hand():
    teacher = torch.zeros(1, 2, 1, 2)
    student = torch.tensor([[[[1.0, 2.0]], [[0.0, 0.0]]]])  # squared channel sums 1 and 4
    loss = FRSLoss('feature', 2, 2, num_levels=1)
    identity_(loss.adapt[0])
    richness = torch.tensor([[[0.5, 0.25]]])
    assert loss([student], [teacher], [richness]).item() == pytest.approx((0.5 * 1 + 0.25 * 4) / 0.75, abs=1e-6)


def test_frs_cls_by_hand():
    teacher = torch.zeros(1, 2, 1, 2)                        # σ = 0.5 for both classes
    student = torch.tensor([[[[LN3, 0.0]], [[0.0, 0.0]]]])   # class 0 at location 0: σ = 0.75
    # location 0: BCE(0.75 ‖ 0.5) = −(0.5 ln 0.75 + 0.5 ln 0.25) = ½ ln(16/3), class 1 ln 2; location 1: 2 ln 2
    richness = torch.tensor([[[1.0, 0.5]]])
    expected = (1.0 * (0.5 * math.log(16 / 3) + LN2) + 0.5 * 2 * LN2) / 1.5
    assert FRSLoss('cls', num_levels=1)([student], [teacher], [richness]).item() == pytest.approx(expected, abs=1e-6)


def test_feature_richness_is_the_teachers_max_class_score():
    logits = torch.randn(2, 6, 3, 5)  # e.g. 2 anchors x 3 classes on a 3 x 5 map
    ctx = SimpleNamespace(t_out=SimpleNamespace(preds={'cls': [logits]}), cache={})
    richness = run_guide({'type': 'feature_richness'}, ctx)['richness'][0]
    assert richness.shape == (2, 3, 5)
    assert torch.allclose(richness[1, 2, 4], logits[1, :, 2, 4].sigmoid().max())


# --- GID -------------------------------------------------------------------------------------------------------
def test_gid_roi_levels():
    # floor(4 + log2(√(wh) / 224)), clamped to P3..P7, counted from P3
    sides = torch.tensor([100.0, 300.0, 1000.0, 2000.0, 5000.0])
    boxes = torch.stack([torch.zeros(5), torch.zeros(5), sides, sides], dim=1)
    assert roi_levels(boxes, STRIDES).tolist() == [0, 1, 3, 4, 4]


def test_gid_roi_features_read_x_as_columns():
    h, w = 8, 16
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float), torch.arange(w, dtype=torch.float), indexing='ij')
    maps = [torch.stack([xs, ys])[None]]  # channel 0 holds the column, channel 1 the row
    tall, wide = torch.tensor([[8.0, 16.0, 24.0, 56.0]]), torch.tensor([[16.0, 8.0, 80.0, 24.0]])
    feats = roi_features(maps, [tall, wide[:0]], [8.0], output_size=2)
    # aligned RoIAlign: pixel x -> x / 8 − 0.5, so the tall box spans columns 0.5..2.5 and rows 1.5..6.5
    assert feats.mean((2, 3))[0].tolist() == pytest.approx([1.5, 4.0], abs=1e-5)
    feats = roi_features(maps, [wide], [8.0], output_size=2)
    assert feats.mean((2, 3))[0].tolist() == pytest.approx([5.5, 1.5], abs=1e-5)


def test_gid_feature_by_hand():
    teacher, student = [torch.ones(2, 2, 16, 16)], [torch.zeros(2, 2, 16, 16)]
    loss = GIDFeatureLoss(2, 2, output_size=3)
    with torch.no_grad():
        loss.adapt.weight.zero_()
        loss.adapt.bias.fill_(0.5)
    boxes = [torch.tensor([[0.0, 0.0, 40.0, 60.0], [20.0, 10.0, 100.0, 30.0]]), torch.tensor([[8.0, 8.0, 64.0, 64.0]])]
    # every RoI cell: teacher 1, adapted student 0.5 in both channels: (0.5² + 0.5²), averaged over 3 GIs x 9 cells
    assert loss(student, teacher, boxes, [8.0], []).item() == pytest.approx(0.5, abs=1e-6)
    assert loss(student, teacher, [boxes[0][:0], boxes[1][:0]], [8.0], []).item() == 0.0


def test_gid_relation_by_hand():
    teacher = torch.tensor([[0.0], [1.0], [2.0]])  # distances 1, 2, 1 (each twice), mean 4/3
    student = torch.tensor([[0.0], [1.0], [3.0]])  # distances 1, 3, 2, mean 2
    # normalised: teacher (0.75, 1.5, 0.75), student (0.5, 1.5, 1); four pairs differ by 0.25: smooth-L1 0.03125
    assert relation_loss(teacher, student).item() == pytest.approx(4 * 0.03125 / 6, abs=1e-6)
    assert relation_loss(teacher, 10 * teacher).item() == pytest.approx(0.0, abs=1e-6)  # scale-free
    assert relation_loss(teacher[:2], student[:2]).item() == 0.0  # fewer than 3 instances


def test_gid_relation_module_uses_images_with_three_instances():
    maps = [torch.randn(2, 3, 16, 16)]
    boxes = [torch.tensor([[0.0, 0.0, 40.0, 60.0], [20.0, 10.0, 100.0, 30.0], [50.0, 50.0, 120.0, 120.0]]),
             torch.tensor([[8.0, 8.0, 64.0, 64.0]])]
    out = GIDRelationLoss(output_size=2)([m * 2 for m in maps], maps, boxes, [8.0], [])
    assert out.item() == pytest.approx(0.0, abs=1e-6)  # scaled student: the same normalised distances
    assert GIDRelationLoss(output_size=2)([torch.randn(2, 3, 16, 16)], maps, boxes, [8.0], []).item() > 0


def test_gid_response_by_hand():
    s_cls = torch.tensor([[[[LN3, 0.0]], [[0.0, 0.0]]]])  # (1, 2 classes, 1, 2)
    t_cls = torch.tensor([[[[LN3, 5.0]], [[0.0, 5.0]]]])
    mask = [torch.tensor([[[[1.0, 0.0]]]])]               # (1, 1 anchor, 1, 2): location 0 only
    # location 0: BCE(0.75 ‖ 0.75) = −(0.75 ln 0.75 + 0.25 ln 0.25), BCE(0.5 ‖ 0.5) = ln 2
    entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert GIDResponseLoss('cls')([s_cls], [t_cls], [], [], mask).item() == pytest.approx(entropy + LN2, abs=1e-6)
    # reg, 4 outputs per anchor: L1 summed over them, exactly the released loss
    s_reg = torch.tensor([1.0, 2.0, 3.0, 4.0]).view(1, 4, 1, 1)
    one = [torch.ones(1, 1, 1, 1)]
    assert GIDResponseLoss('reg')([s_reg], [torch.zeros(1, 4, 1, 1)], [], [], one).item() == pytest.approx(10.0)
    # 2 anchors x 8 outputs (2 bins per coordinate): only anchor 1 is assigned; 8 |1 − 0| scaled by 4/8
    s_reg = torch.cat([torch.full((1, 8, 1, 1), 5.0), torch.ones(1, 8, 1, 1)], dim=1)
    mask = [torch.tensor([0.0, 1.0]).view(1, 2, 1, 1)]
    assert GIDResponseLoss('reg')([s_reg], [torch.zeros(1, 16, 1, 1)], [], [], mask).item() == pytest.approx(4.0)


def test_gid_selection_by_hand():
    # two levels (3 + 2 priors); tall image 100 x 200 (h x w)
    tall, wide = [10.0, 10.0, 30.0, 150.0], [120.0, 40.0, 250.0, 60.0]
    boxes_t = torch.tensor([tall, wide, [0.0, 0.0, 8.0, 50.0], tall, [0.0, 0.0, 50.0, 50.0]])
    boxes_s = boxes_t + 1.0
    scores_t = torch.tensor([0.9, 0.1, 0.9, 0.6, 0.5])
    scores_s = torch.tensor([0.1, 0.8, 0.1, 0.6, 0.5])
    boxes, scores = select_general_instances(scores_t, scores_s, boxes_t, boxes_s, [3, 2], (100, 200), k=10,
                                             nms_iou=0.3, pre_nms=3000, min_size=10.0)
    # prior 0: teacher higher -> teacher's tall box, y clipped to the height 100; prior 1: student higher -> the
    # student's wide box, x clipped to the width 200; prior 2: 8 px wide, dropped; priors 3-4: no gap (score 0), but
    # candidates still: prior 3's box is prior 0's on another level, which NMS (per level) keeps
    assert scores.tolist() == pytest.approx([0.8, 0.7, 0.0, 0.0])
    assert boxes[0].tolist() == [10.0, 10.0, 30.0, 100.0]
    assert boxes[1].tolist() == [121.0, 41.0, 200.0, 61.0]
    assert {tuple(b) for b in boxes[2:].tolist()} == {(11.0, 11.0, 31.0, 100.0), (1.0, 1.0, 51.0, 51.0)}
    top = select_general_instances(scores_t, scores_s, boxes_t, boxes_s, [3, 2], (100, 200), 1, 0.3, 3000, 10.0)
    assert len(top[0]) == 1 and top[1].item() == pytest.approx(0.8)
    # NMS within a level: a near-copy of the wide box on level 0 with a lower score goes
    boxes_t[2] = torch.tensor(wide) + 2
    scores_t[2], scores_s[2] = 0.3, 0.1
    boxes, _ = select_general_instances(scores_t, scores_s, boxes_t, boxes_s, [3, 2], (100, 200), 10, 0.3, 3000, 10.0)
    assert len(boxes) == 4


def test_gid_response_mask_by_hand():
    anchors = torch.tensor([[0.0, 0.0, 10.0, 40.0], [0.0, 0.0, 40.0, 10.0], [100.0, 100.0, 140.0, 110.0]])
    tall_gi = torch.tensor([[0.0, 0.0, 10.0, 38.0]])   # IoU 0.95 with the tall anchor, 0.15 with the wide one
    assert response_mask(tall_gi, anchors, 0.5).tolist() == [1.0, 0.0, 0.0]
    wide_gi = torch.tensor([[90.0, 100.0, 140.0, 140.0]])  # IoU 0.2 at best: its best anchor still counts
    assert response_mask(wide_gi, anchors, 0.5).tolist() == [0.0, 0.0, 1.0]
    assert response_mask(tall_gi[:0], anchors, 0.5).tolist() == [0.0, 0.0, 0.0]


# --- guides on a real head --------------------------------------------------------------------------------------
def context(method):
    from test_detector import batch, build
    model, _ = build(method)
    inputs, samples = batch()
    layer = model.spec.layer
    with torch.no_grad():
        feats = list(model.extract_feat(inputs))
        t_feats = list(model.teacher.extract_feat(inputs))
        s_out = model.student_adapter.forward(feats, layer)
        t_out = model.teacher_adapter.forward(t_feats, layer)
    return KDContext(model.student_adapter, model.teacher_adapter, feats, t_feats, s_out, t_out, samples)


def test_gt_box_scaled_on_tall_and_wide_boxes():
    ctx = context('fgd_atss.py')
    out = run_guide({'type': 'gt_box_scaled'}, ctx)
    offset = ctx.teacher_adapter.head.prior_generator.center_offset
    for n, sample in enumerate(ctx.data_samples):
        boxes = sample.gt_instances.bboxes  # image 0: a tall box (10..40 x 20..100) and a wide one (60..120 x 60..90)
        areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
        for level, (fg, bg) in enumerate(zip(out['fg'], out['bg'])):
            stride = STRIDES[level]
            h, w = fg.shape[-2:]
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
            cx, cy = (xs + offset) * stride, (ys + offset) * stride
            inside = ((cx[..., None] > boxes[:, 0]) & (cx[..., None] < boxes[:, 2]) &
                      (cy[..., None] > boxes[:, 1]) & (cy[..., None] < boxes[:, 3]))          # (H, W, G)
            smallest = torch.where(inside, areas, torch.full_like(areas, float('inf'))).amin(-1)
            expected = inside.any(-1) / (smallest / stride ** 2).clamp(min=1.0)
            assert torch.allclose(fg[n], expected)
            background = ~inside.any(-1)
            assert torch.allclose(bg[n], background / background.sum().clamp(min=1))
    # P3 (stride 8): the tall box is 2400 px² = 37.5 cells, the wide one 1800 px² = 28.125 cells
    assert out['fg'][0][0].unique().tolist() == pytest.approx([0.0, 1 / 37.5, 1 / 28.125])


def test_general_instances_on_a_real_head():
    ctx = context('gid_gfl.py')
    out = run_guide({'type': 'general_instances', 'k': 5}, ctx)
    assert run_guide({'type': 'general_instances', 'k': 5}, ctx) is out  # one selection per batch, shared by terms
    assert out['strides'] == [8.0, 16.0, 32.0, 64.0, 128.0]
    for boxes, sample in zip(out['boxes'], ctx.data_samples):
        h, w = sample.metainfo['img_shape']
        assert 0 < len(boxes) <= 5
        assert (boxes[:, 2] - boxes[:, 0] > 10).all() and (boxes[:, 3] - boxes[:, 1] > 10).all()
        assert (boxes[:, [0, 2]] <= w).all() and (boxes[:, [1, 3]] <= h).all() and (boxes >= 0).all()
    assert [m.shape for m in out['response_mask']] == [(2, 1) + m.shape[-2:] for m in ctx.t_out.preds['cls']]
    for n, boxes in enumerate(out['boxes']):
        assert sum(m[n].sum() for m in out['response_mask']) >= 1  # every GI has at least its best prior


def test_general_instances_on_a_point_head():
    ctx = context('frs_fcos.py')
    out = run_guide({'type': 'general_instances'}, ctx)
    assert [m.shape for m in out['response_mask']] == [(2, 1) + m.shape[-2:] for m in ctx.t_out.preds['cls']]
    assert all(len(b) <= 10 for b in out['boxes'])


# --- where the gradients go -------------------------------------------------------------------------------------
def grads(model, losses, key):
    """Names of the parameters that the loss `key` reaches; the teacher gets no gradient at all."""
    params = dict(model.named_parameters())
    values = torch.autograd.grad(losses[key], list(params.values()), allow_unused=True, retain_graph=True)
    return {n for n, g in zip(params, values) if g is not None and g.abs().sum() > 0}


def run(method, iteration=10**6):
    """The model and its losses on a batch at `iteration`: by default past every KD warm-up (FRS ramps its terms)."""
    from mmengine.logging import MessageHub
    from test_detector import batch, build
    model, _ = build(method)
    inputs, samples = batch()
    hub = MessageHub.get_current_instance()
    hub.update_info('iter', iteration)
    try:
        losses = model.loss(inputs, samples)
    finally:
        hub.update_info('iter', 0)
    assert all(torch.isfinite(v) for k, v in losses.items() if k.startswith('loss_kd_'))
    assert all(not p.requires_grad for p in model.teacher.parameters())
    return model, losses


def prefixed(names, *prefixes):
    return any(n.startswith(prefixes) for n in names)


def test_fgd_gradients_reach_neck_and_relation_modules_not_the_head():
    model, losses = run('fgd_gfl.py')
    reached = grads(model, losses, 'loss_kd_fgd')
    assert prefixed(reached, 'neck.') and prefixed(reached, 'backbone.') and not prefixed(reached, 'bbox_head.')
    assert 'kd_losses.fgd.relation_s.0.transform.3.weight' in reached  # both GcBlocks train
    assert 'kd_losses.fgd.relation_t.0.transform.3.weight' in reached


def test_fkd_gradients_reach_neck_adapters_and_nonlocal_blocks():
    model, losses = run('fkd_atss.py')
    reached = grads(model, losses, 'loss_kd_fkd')
    assert prefixed(reached, 'neck.') and not prefixed(reached, 'bbox_head.')
    for part in ('adapt.0.', 'adapt_spatial.0.', 'adapt_channel.0.', 'nonlocal_s.0.', 'nonlocal_t.0.',
                 'adapt_nonlocal.0.'):
        assert prefixed(reached, f'kd_losses.fkd.{part}'), part


def test_frs_feature_term_trains_the_neck_and_cls_term_the_cls_branch():
    model, losses = run('frs_gfl.py')
    feat = grads(model, losses, 'loss_kd_frs_feat')
    assert prefixed(feat, 'neck.') and prefixed(feat, 'kd_losses.frs_feat.adapt.') and not prefixed(feat, 'bbox_head.')
    cls = grads(model, losses, 'loss_kd_frs_cls')
    assert 'bbox_head.gfl_cls.weight' in cls and prefixed(cls, 'bbox_head.cls_convs.', 'neck.')
    assert not prefixed(cls, 'bbox_head.gfl_reg', 'bbox_head.reg_convs')


def test_frs_terms_ramp_up_over_their_first_iterations_like_the_released_distill_warm_step():
    """duzhixing/FRS multiplies both KD losses by iteration / distill_warm_step (500, iteration from 0) until then:
    0 at the first iteration, a quarter at a quarter of the way, full from the end on. The tiny profile shortens the
    500 to its LR warm-up (100), as it does the schedule's own 500."""
    from repro.plan.compile import compile_config
    from repro.profiles import CONFIG_DIR
    coco = compile_config(CONFIG_DIR / 'methods/frs_gfl.py', 'coco', [], check_data=False).cfg
    assert [coco.distill.terms[t].warmup_iters for t in ('frs_feat', 'frs_cls')] == [500, 500]
    values = {}
    for iteration in (0, 25, 100, 5000):
        torch.manual_seed(0)
        model, losses = run('frs_gfl.py', iteration)
        assert [t.warmup_iters for t in model.spec.terms] == [100, 100]
        values[iteration] = {k: losses[k].item() for k in ('loss_kd_frs_feat', 'loss_kd_frs_cls')}
    for key, full in values[5000].items():
        assert full > 0
        assert values[0][key] == 0
        assert values[25][key] == pytest.approx(0.25 * full, rel=1e-5)
        assert values[100][key] == pytest.approx(full, rel=1e-5)


def test_a_term_warm_up_is_a_whole_number_and_the_users_own_stays():
    from test_detector import build
    model, _ = build('frs_gfl.py', ['distill.terms.frs_cls.warmup_iters=7'])
    assert [t.warmup_iters for t in model.spec.terms] == [100, 7]
    with pytest.raises(ReproError, match="distill.terms.frs_cls.warmup_iters is -1: use a whole number"):
        build('frs_gfl.py', ['distill.terms.frs_cls.warmup_iters=-1'])


def test_gid_terms_reach_what_they_distil():
    model, losses = run('gid_gfl.py')
    feature = grads(model, losses, 'loss_kd_gid_feature')
    assert prefixed(feature, 'neck.') and 'kd_losses.gid_feature.adapt.weight' in feature
    assert not prefixed(feature, 'bbox_head.')
    relation = grads(model, losses, 'loss_kd_gid_relation')
    assert prefixed(relation, 'neck.') and not prefixed(relation, 'bbox_head.')
    cls, reg = grads(model, losses, 'loss_kd_gid_cls'), grads(model, losses, 'loss_kd_gid_reg')
    assert 'bbox_head.gfl_cls.weight' in cls and not prefixed(cls, 'bbox_head.gfl_reg')
    assert 'bbox_head.gfl_reg.weight' in reg and not prefixed(reg, 'bbox_head.gfl_cls')


# --- configs and errors -----------------------------------------------------------------------------------------
@pytest.mark.parametrize('method, student, teacher', [
    ('fgd_self_fcos.py', 'configs/detectors/fcos_r50.py', 'configs/detectors/fcos_r50.py'),
    ('fgd_self_atss.py', 'configs/detectors/atss_r50.py', 'configs/detectors/atss_r50.py'),
    ('fgd_fcos_mbv2.py', 'configs/detectors/fcos_mbv2.py', 'configs/teachers/fcos_r101_pgd.py'),
])
def test_configs_compile_with_their_teacher(method, student, teacher):
    from repro.plan.compile import compile_config
    from repro.profiles import CONFIG_DIR
    compiled = compile_config(CONFIG_DIR / 'methods' / method, 'tiny', [])
    own = compile_config(CONFIG_DIR.parent / teacher, 'tiny', [])
    assert compiled.cfg.teacher.config == teacher and compiled.cfg.teacher.run_key == own.run_key
    assert compiled.cfg.model.teacher['type'] == own.cfg.model.type
    temperature = compiled.cfg.model.distill['terms']['fgd']['loss']['temperature']
    assert temperature == (0.5 if 'atss' in method else 0.8)  # anchor-based vs anchor-free FGD settings
    if 'mbv2' in method:
        assert compiled.cfg.model.student['backbone']['type'] == 'MobileNetV2'


def test_bad_settings_are_clear_errors():
    with pytest.raises(ReproError, match="FRSLoss kind is 'box'"):
        FRSLoss('box')
    with pytest.raises(ReproError, match="GIDResponseLoss kind is 'box'"):
        GIDResponseLoss('box')
    with pytest.raises(ReproError, match='FGDLoss temperature is 0'):
        FGDLoss(temperature=0)
    with pytest.raises(ReproError, match='FKDLoss nonlocal_inter and nonlocal_pool need one entry per level'):
        FKDLoss(num_levels=3)
    with pytest.raises(ReproError, match='FGDLoss got 2 FPN levels but was built for num_levels=5'):
        FGDLoss(4, 4)([torch.zeros(1, 4, 2, 2)] * 2, [torch.zeros(1, 4, 2, 2)] * 2, [torch.zeros(1, 2, 2)] * 2,
                      [torch.zeros(1, 2, 2)] * 2)
    with pytest.raises(ReproError, match='GIDFeatureLoss got 1 maps but the guide gave 2 strides'):
        GIDFeatureLoss(4, 4)([torch.zeros(1, 4, 2, 2)], [torch.zeros(1, 4, 2, 2)], [torch.zeros(0, 4)], [8.0, 16.0],
                             [])
