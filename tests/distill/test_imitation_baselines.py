"""The simpler feature-imitation baselines (FitNets, Inside GT Box, Main Region, FGFI, DeFeat, SKD): each loss on a case
computed by hand, the `main_region` and `fine_grained` guides on a real head, and where the gradients go."""
import math

import pytest
import torch

from repro.distill.guides import run_guide
from repro.distill.losses import DeFeatLoss, FGFILoss, FitNetsLoss, SKDLoss, build_loss
from repro.errors import ReproError

C1, C2 = 0.01 ** 2, 0.03 ** 2  # SSIM's stabilisers for L = 1
CONFIGS = ['fitnets_gfl.py', 'inside_gt_gfl.py', 'main_region_gfl.py', 'fgfi_gfl.py', 'fgfi_atss.py', 'fgfi_ddod.py',
           'defeat_gfl.py', 'defeat_fcos.py', 'defeat_autoassign.py', 'defeat_atss.py', 'defeat_ddod.py', 'skd_gfl.py']


def two_levels():
    """Level A: 1 image, 4 channels, 1 x 2 locations; level B: 1 x 2 locations. Teacher all zero.

    A: channel 0 = (1, 3), channel 1 = (2, 0): squared errors at location 0 sum to 1 + 4 = 5, at location 1 to 9.
    B: channel 0 = (2, 0): squared errors 4 and 0.
    """
    a = torch.zeros(1, 4, 1, 2)
    a[0, 0, 0] = torch.tensor([1.0, 3.0])
    a[0, 1, 0] = torch.tensor([2.0, 0.0])
    b = torch.zeros(1, 4, 1, 2)
    b[0, 0, 0, 0] = 2.0
    return [a, b], [torch.zeros_like(a), torch.zeros_like(b)]


def identity_(loss, scale=1.0):
    """Set every adaptation conv of `loss` to scale × identity (the centre tap of the kernel), zero bias."""
    with torch.no_grad():
        for conv in loss.adapt.convs:
            conv.weight.zero_()
            k = conv.kernel_size[0] // 2
            conv.weight[:, :, k, k] = scale * torch.eye(conv.weight.shape[0])
            conv.bias.zero_()


# --- losses, by hand ---------------------------------------------------------------------------------------------
def test_fitnets_unmasked_and_masked_by_hand():
    student, teacher = two_levels()
    loss = FitNetsLoss(adapt=False)
    # no mask: level A (5 + 9) / (4 channels · 2 locations) = 1.75; level B 4 / 8 = 0.5; summed over levels
    assert loss(student, teacher).item() == pytest.approx(2.25)
    # mask A = (1, 0), B = (1, 1): A 5 / (4 · 1) = 1.25, B 4 / (4 · 2) = 0.5
    fg = [torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[1.0, 1.0]]])]
    assert loss(student, teacher, fg=fg).item() == pytest.approx(1.75)
    # an empty level adds 0 (no division by zero)
    fg = [torch.tensor([[[1.0, 0.0]]]), torch.zeros(1, 1, 2)]
    assert loss(student, teacher, fg=fg).item() == pytest.approx(1.25)


def test_fgfi_pools_its_normaliser_over_levels_by_hand():
    student, teacher = two_levels()
    fg = [torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[1.0, 1.0]]])]
    # (5 + 4) / (2 · 3 masked locations) = 1.5, no division by the channel count
    assert FGFILoss(adapt=False)(student, teacher, fg=fg).item() == pytest.approx(1.5)
    with pytest.raises(ReproError, match="guide=dict\\(type='fine_grained'\\)"):
        FGFILoss(adapt=False)(student, teacher)


def test_adaptation_layers_are_applied_to_the_student():
    student, teacher = two_levels()
    fg = [torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[1.0, 1.0]]])]
    fitnets = FitNetsLoss(4, 4)
    identity_(fitnets)
    assert fitnets(student, teacher).item() == pytest.approx(2.25)
    identity_(fitnets, 2.0)  # r(s) = 2s: squared errors × 4
    assert fitnets(student, teacher).item() == pytest.approx(9.0)
    fgfi = FGFILoss(4, 4)  # 3x3 conv: the identity sits on the centre tap
    identity_(fgfi)
    assert fgfi(student, teacher, fg=fg).item() == pytest.approx(1.5)
    assert [c.kernel_size for c in fgfi.adapt.convs] == [(3, 3)]


def test_defeat_by_hand():
    student, teacher = two_levels()
    fg = [torch.tensor([[[1.0, 0.0]]]), torch.tensor([[[1.0, 1.0]]])]
    bg = [1 - m for m in fg]
    loss = DeFeatLoss(fg_weight=3.0, bg_weight=12.0, adapt=False)
    # A: fg 5 / (2 · 4 · 1) = 0.625, bg 9 / (2 · 4 · 1) = 1.125; B: fg 4 / (2 · 4 · 2) = 0.25, no bg location
    # (3 · 0.625 + 12 · 1.125 + 3 · 0.25) / 2 levels = 8.0625
    assert loss(student, teacher, fg=fg, bg=bg).item() == pytest.approx(8.0625)
    per_level = DeFeatLoss(4, 4, num_levels=2)
    identity_(per_level)
    assert per_level(student, teacher, fg=fg, bg=bg).item() == pytest.approx(8.0625)
    with pytest.raises(ReproError, match='2 per-level adaptation convs but got 3'):
        per_level(student + student[:1], teacher + teacher[:1], fg=fg + fg[:1], bg=bg + bg[:1])


def test_skd_one_pixel_is_luminance_only():
    # one 1 x 1 map, 2 channels: the window is the pixel itself, so σ = 0 and SSIM = luminance
    # student (5, 1) -> min-max (1, 0); teacher (0, 7) -> (0, 1): each channel has μ_s μ_t = 0, μ_s² + μ_t² = 1
    student = torch.tensor([5.0, 1.0]).view(1, 2, 1, 1)
    teacher = torch.tensor([0.0, 7.0]).view(1, 2, 1, 1)
    ssim = C1 / (1 + C1)
    assert SKDLoss()([student], [teacher]).item() == pytest.approx((1 - ssim) / 2, abs=1e-6)


def test_skd_two_pixels_by_hand():
    # 1 channel, 1 x 2 map, 3-tap window (σ = 1.5) truncated at the border: at each pixel the weights are
    # 1 (itself) and e^(-1/4.5) (its neighbour), renormalised: w, 1 − w
    w = 1 / (1 + math.exp(-1 / 4.5))
    student = torch.tensor([1.0, 0.0]).view(1, 1, 1, 2)
    teacher = torch.tensor([0.0, 1.0]).view(1, 1, 1, 2)
    # pixel 0: μ_s = w, μ_t = 1 − w; E[s²] = w, E[t²] = 1 − w, E[st] = 0 (pixel 1 is the mirror image)
    mu_s, mu_t = w, 1 - w
    var_s, var_t, cov = w - w * w, (1 - w) - (1 - w) ** 2, -w * (1 - w)
    ssim = (2 * mu_s * mu_t + C1) * (2 * cov + C2) / ((mu_s ** 2 + mu_t ** 2 + C1) * (var_s + var_t + C2))
    assert ssim == pytest.approx(-0.9723, abs=1e-4)  # anti-correlated structure
    loss = SKDLoss(window_size=3)([student], [teacher])
    assert loss.item() == pytest.approx((1 - ssim) / 2, abs=1e-6)


def test_skd_is_zero_for_the_same_map_up_to_scale_and_shift():
    teacher = torch.randn(2, 3, 6, 5)
    assert SKDLoss()([teacher * 3 + 2, teacher[:, :, :2]], [teacher, teacher[:, :, :2]]).item() == \
        pytest.approx(0.0, abs=1e-5)
    assert SKDLoss()([-teacher], [teacher]).item() > 0.1


def test_bad_configurations_are_clear_errors():
    with pytest.raises(ReproError, match='needs student_channels and teacher_channels'):
        FitNetsLoss()
    with pytest.raises(ReproError, match='kernel_size is 2'):
        FitNetsLoss(4, 4, kernel_size=2)
    with pytest.raises(ReproError, match='widths differ .* set adapt=True'):
        build_loss({'type': 'SKDLoss'}, student_channels=64, teacher_channels=128)
    with pytest.raises(ReproError, match='window_size is 4'):
        SKDLoss(window_size=4)
    with pytest.raises(ReproError, match='bad arguments for KD loss DeFeatLoss'):
        build_loss({'type': 'DeFeatLoss', 'alpha': 1.0}, student_channels=4, teacher_channels=4)


# --- guides --------------------------------------------------------------------------------------------------------
def level_grid(size, stride, offset):
    """Centres (H, W) x and y of a level's locations: (index + offset) · stride."""
    ys, xs = torch.meshgrid(torch.arange(size[0]), torch.arange(size[1]), indexing='ij')
    return (xs + offset) * stride, (ys + offset) * stride


def iou_with_squares(box, cx, cy, side):
    """IoU of one x1y1x2y2 box with squares of `side` centred at (cx, cy), written out."""
    iw = (torch.minimum(cx + side / 2, box[2]) - torch.maximum(cx - side / 2, box[0])).clamp(min=0)
    ih = (torch.minimum(cy + side / 2, box[3]) - torch.maximum(cy - side / 2, box[1])).clamp(min=0)
    inter = iw * ih
    return inter / ((box[2] - box[0]) * (box[3] - box[1]) + side * side - inter)


def expected_fine_grained(ctx, offset, psi=0.5, swap=False):
    """FGFI's mask recomputed from the level grid with square priors of 8·stride; swap=True transposes the GT boxes."""
    strides = [8, 16, 32, 64, 128]
    masks = []
    for sample in ctx.data_samples:
        levels = [torch.zeros(size) for size in ctx.sizes]
        for box in sample.gt_instances.bboxes:
            if swap:
                box = box[[1, 0, 3, 2]]
            ious = [iou_with_squares(box, *level_grid(size, s, offset), 8 * s) for size, s in zip(ctx.sizes, strides)]
            best = max(float(i.max()) for i in ious)
            levels = [m + (i > psi * best).float() for m, i in zip(levels, ious)]
        masks.append([m.clamp(max=1) for m in levels])
    return [torch.stack([m[level] for m in masks]) for level in range(len(ctx.sizes))]


@pytest.mark.parametrize('method, offset', [('fgfi_gfl.py', 'center_offset'), ('defeat_fcos.py', 'offset')])
def test_fine_grained_marks_the_near_object_anchors(method, offset):
    from test_guides import context
    ctx = context(method)  # image 0: a tall box (10..40 x 20..100) and a wide one (60..120 x 60..90)
    fg = run_guide({'type': 'fine_grained'}, ctx)['fg']
    offset = getattr(ctx.teacher_adapter.head.prior_generator, offset)  # anchors: 0; FCOS points: 0.5
    expected = expected_fine_grained(ctx, offset)
    assert [m.shape for m in fg] == [m.shape for m in expected]
    assert all(torch.equal(a, b) for a, b in zip(fg, expected))
    assert all(sum(m[n].sum() for m in fg) > 0 for n in range(2))  # every image has an imitation region
    swapped = expected_fine_grained(ctx, offset, swap=True)
    assert not all(torch.equal(a, b) for a, b in zip(fg, swapped)), 'the mask must not survive an x/y swap'
    strict = run_guide({'type': 'fine_grained', 'psi': 1.0}, ctx)['fg']  # IoU > max: nothing
    assert sum(m.sum() for m in strict) == 0
    with pytest.raises(ReproError, match='psi is 0'):
        run_guide({'type': 'fine_grained', 'psi': 0}, ctx)


def test_main_region_is_the_students_positive_locations():
    from test_guides import context
    ctx = context('main_region_gfl.py')
    fg = run_guide({'type': 'main_region'}, ctx)['fg']
    assert [m.shape for m in fg] == [(2, h, w) for h, w in ctx.sizes]
    assert sum(m.sum() for m in fg) == ctx.targets.pos.sum() > 0  # GFL: one anchor per location
    offset = ctx.teacher_adapter.head.prior_generator.center_offset
    for n, sample in enumerate(ctx.data_samples):
        boxes = sample.gt_instances.bboxes
        for m, s in zip(fg, [8, 16, 32, 64, 128]):
            ys, xs = torch.nonzero(m[n], as_tuple=True)
            cx, cy = (xs + offset) * s, (ys + offset) * s
            inside = ((cx[:, None] > boxes[:, 0]) & (cx[:, None] < boxes[:, 2]) &
                      (cy[:, None] > boxes[:, 1]) & (cy[:, None] < boxes[:, 3])).any(1)
            assert inside.all(), 'ATSS positives have their centre inside a GT box (an x/y swap breaks this)'


# --- gradients -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('method', CONFIGS)
def test_gradients_reach_the_student_neck_and_adapter_not_the_teacher_or_head(method):
    from test_detector import batch, build, total
    model, _ = build(method)
    model.teacher.requires_grad_(True)  # so that a leak into the teacher would show up as a gradient
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    kd = total(losses, kd=True)
    assert torch.isfinite(kd) and kd > 0
    params = dict(model.named_parameters())
    teacher = list(model.teacher.parameters())
    grads = torch.autograd.grad(kd, list(params.values()) + teacher, allow_unused=True)
    reached = {n for n, g in zip(params, grads) if g is not None and g.abs().sum() > 0}
    assert all(g is None for g in grads[len(params):]), 'the teacher must get no gradient'
    assert any(n.startswith('backbone.') for n in reached) and any(n.startswith('neck.') for n in reached)
    assert not any(n.startswith('bbox_head.') for n in reached)
    adapter = [n for n in params if n.startswith('kd_losses.')]
    assert all(n in reached for n in adapter)
    assert bool(adapter) == (method != 'skd_gfl.py')  # SKD's adaptation is off for equal widths
