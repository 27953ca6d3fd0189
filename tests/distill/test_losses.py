"""Every KD loss against a small case computed by hand (the arithmetic is in the comments)."""
import math

import pytest
import torch

from repro.distill.losses import LOSSES, BoxIoUKD, CenternessKD, DistributionKLKD, PKDLoss, QualityFocalKD, build_loss
from repro.distill.standardize import match_stats, standardize
from repro.errors import ReproError

LN2, LN3 = math.log(2), math.log(3)


def test_quality_focal_kd():
    pred = torch.tensor([[0.0, 0.0]])      # σ = 0.5, 0.5
    target = torch.tensor([[LN3, 0.0]])    # σ = 0.75, 0.5
    # class 0: BCE(0.5 ‖ 0.75) = −(0.75 ln 0.5 + 0.25 ln 0.5) = ln 2, times |0.5 − 0.75|^1 = 0.25
    # class 1: BCE(0.5 ‖ 0.5) = ln 2, times |0.5 − 0.5| = 0
    assert QualityFocalKD(beta=1.0)(pred, target).item() == pytest.approx(0.25 * LN2, abs=1e-6)
    assert QualityFocalKD(beta=0.0)(pred, target).item() == pytest.approx(2 * LN2, abs=1e-6)  # plain BCE
    assert QualityFocalKD(beta=2.0)(pred, target).item() == pytest.approx(0.0625 * LN2, abs=1e-6)


def test_quality_focal_kd_is_zero_only_at_the_target():
    target = torch.tensor([[1.5, -2.0, 0.3]])
    assert QualityFocalKD()(target.clone(), target).item() == pytest.approx(0.0, abs=1e-7)
    assert QualityFocalKD()(target + 0.1, target).item() > 0


def test_distribution_kl_kd():
    # reg_max = 1: two bins per edge. Student uniform (0.5, 0.5); teacher softmax(ln 3, 0) = (0.75, 0.25).
    # KL = 0.75 ln(0.75 / 0.5) + 0.25 ln(0.25 / 0.5) = 0.304099 − 0.173287 = 0.130812 per edge.
    pred = torch.zeros(1, 8)
    target = torch.tensor([[LN3, 0.0] * 4])
    assert DistributionKLKD(T=1)(pred, target).item() == pytest.approx(0.130812, abs=1e-6)  # mean of 4 equal edges
    assert DistributionKLKD(T=1, edges='sum')(pred, target).item() == pytest.approx(4 * 0.130812, abs=1e-5)
    # only edge 2 differs: the mean over the 4 edges is a quarter of it
    one_edge = torch.tensor([[0.0, 0.0] * 2 + [LN3, 0.0] + [0.0, 0.0]])
    assert DistributionKLKD(T=1)(pred, one_edge).item() == pytest.approx(0.130812 / 4, abs=1e-6)
    # T = 2: teacher softmax(ln 3 / 2, 0) = (0.633975, 0.366025);
    # KL = 0.633975 ln 1.267949 + 0.366025 ln 0.732051 = 0.0363408; × T² = 4
    assert DistributionKLKD(T=2)(pred, target).item() == pytest.approx(4 * 0.0363408, abs=1e-5)
    assert DistributionKLKD()(target, target).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(ReproError, match="DistributionKLKD edges is 'max'"):
        DistributionKLKD(edges='max')


def test_box_iou_kd_modes():
    pred = torch.tensor([[0.0, 0.0, 2.0, 2.0]])
    target = torch.tensor([[1.0, 1.0, 3.0, 3.0]])
    # intersection 1, union 4 + 4 − 1 = 7, IoU 1/7; enclosing box 3 x 3 = 9
    assert BoxIoUKD('giou')(pred, target).item() == pytest.approx(1 - (1 / 7 - 2 / 9), abs=1e-6)
    assert BoxIoUKD('iou')(pred, target).item() == pytest.approx(math.log(7), abs=1e-6)
    assert BoxIoUKD('linear_iou')(pred, target).item() == pytest.approx(6 / 7, abs=1e-6)
    far = torch.tensor([[2.0, 2.0, 3.0, 3.0]])  # disjoint from [0, 0, 1, 1]: IoU 0, union 2, enclosing 9
    assert BoxIoUKD('giou')(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), far).item() == pytest.approx(1 + 7 / 9, abs=1e-6)
    assert BoxIoUKD('giou')(target, target).item() == pytest.approx(0.0, abs=1e-6)
    with pytest.raises(AssertionError):
        BoxIoUKD('diou')


def test_centerness_kd():
    # BCE(σ(0) = 0.5 ‖ σ(ln 3) = 0.75) = ln 2
    assert CenternessKD()(torch.tensor([0.0]), torch.tensor([LN3])).item() == pytest.approx(LN2, abs=1e-6)


def test_pkd_ignores_scale_and_shift_per_channel():
    teacher = torch.randn(2, 3, 4, 5)
    scale = torch.tensor([2.0, 0.5, 7.0]).view(1, 3, 1, 1)
    assert PKDLoss()([teacher * scale + 3.0], [teacher]).item() == pytest.approx(0.0, abs=1e-5)


def test_pkd_on_an_anticorrelated_feature():
    # one channel, n = 4 values: standardised z (unbiased std) has mean(z²) = (n − 1) / n = 0.75;
    # student −t gives −z, so MSE = mean((2z)²) = 3, halved: 1.5
    teacher = torch.tensor([1.0, 2.0, 4.0, 9.0]).view(1, 1, 1, 4)
    assert PKDLoss()([-teacher], [teacher]).item() == pytest.approx(1.5, abs=1e-4)


def test_standardize_and_match_stats():
    x = torch.randn(3, 2, 5, 5) * 4 + 1
    ref = torch.randn(3, 2, 5, 5) * torch.tensor([0.5, 3.0]).view(1, 2, 1, 1) + torch.tensor([-2.0, 6.0]).view(1, 2, 1, 1)
    z = standardize(x)
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-5)
    assert torch.allclose(z.std(dim=(0, 2, 3)), torch.ones(2), atol=1e-4)
    m = match_stats(x, ref)
    assert torch.allclose(m.mean(dim=(0, 2, 3)), ref.mean(dim=(0, 2, 3)), atol=1e-4)
    assert torch.allclose(m.std(dim=(0, 2, 3)), ref.std(dim=(0, 2, 3)), atol=1e-3)


def _masks(n=2, size=4, levels=5):
    fg = [(torch.rand(n, size, size) > 0.5).float() for _ in range(levels)]
    return fg, [1 - m for m in fg]


# What each feature loss takes beyond the per-level student and teacher maps (its guide's output), for 5 levels of
# (2, 3, 4, 4) maps. A loss missing here fails the test below: every registered loss must be exercised.
GUIDE_OUTPUTS = {
    'PKDLoss': lambda: {}, 'SKDLoss': lambda: {}, 'FKDLoss': lambda: {},
    'PGDLoss': lambda: dict(zip(('fg', 'bg'), _masks())), 'DeFeatLoss': lambda: dict(zip(('fg', 'bg'), _masks())),
    'FGDLoss': lambda: dict(zip(('fg', 'bg'), _masks())),
    'FitNetsLoss': lambda: {'fg': _masks()[0]}, 'FGFILoss': lambda: {'fg': _masks()[0]},
    'FRSLoss': lambda: {'richness': [torch.rand(2, 4, 4) for _ in range(5)]},
    'PFILoss': lambda: {'weight': [torch.rand(2, 4, 4) for _ in range(5)]},
    # 1 anchor x 3 classes per location, 5 levels of 4x4 = 80 locations; one GT of class 2 per image
    'RankMimickingLoss': lambda: {'candidates': [torch.rand(1, 80) > 0.7, torch.rand(1, 80) > 0.7],
                                  'labels': [torch.tensor([2]), torch.tensor([2])]},
}
for _gid in ('GIDFeatureLoss', 'GIDRelationLoss', 'GIDResponseLoss'):  # 3 instances per image (a relation needs
    GUIDE_OUTPUTS[_gid] = lambda: {'boxes': [torch.tensor([[0., 0., 16., 24.], [8., 4., 30., 30.],  # 2+ pairs)
                                                           [2., 10., 12., 31.]])] * 2,
                                   'strides': [8, 16, 32, 64, 128],
                                   'response_mask': [torch.rand(2, 1, 4, 4) > 0.5 for _ in range(5)]}
PREDICTION_LOSSES = ('QualityFocalKD', 'DistributionKLKD', 'BoxIoUKD', 'CenternessKD')


@pytest.mark.parametrize('name', sorted(LOSSES))
def test_every_loss_builds_from_config_and_is_differentiable(name):
    if name not in PREDICTION_LOSSES:  # a feature loss: per-level lists plus what its guide gives
        assert name in GUIDE_OUTPUTS, f'add an example call of {name} to GUIDE_OUTPUTS'
        torch.manual_seed(0)
        loss = build_loss({'type': name}, student_channels=3, teacher_channels=3)
        student = [torch.randn(2, 3, 4, 4, requires_grad=True) for _ in range(5)]
        out = loss(student, [torch.randn(2, 3, 4, 4) for _ in range(5)], **GUIDE_OUTPUTS[name]())
        out.backward()
        assert out.dim() == 0 and torch.isfinite(out)
        assert sum(s.grad.abs().sum() for s in student if s.grad is not None) > 0
        return
    loss = build_loss({'type': name})
    if name == 'BoxIoUKD':
        pred = torch.tensor([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 4.0, 5.0]], requires_grad=True)
        target = torch.tensor([[0.5, 0.0, 2.0, 3.0], [1.0, 2.0, 4.0, 4.0]])
    else:
        pred, target = torch.randn(4, 8, requires_grad=True), torch.randn(4, 8)
    out = loss(pred, target)
    out.sum().backward()
    assert torch.isfinite(out).all() and pred.grad.abs().sum() > 0


def test_build_loss_errors():
    with pytest.raises(ReproError, match="unknown KD loss type 'Nope'"):
        build_loss({'type': 'Nope'})
    with pytest.raises(ReproError, match='bad arguments for KD loss QualityFocalKD'):
        build_loss({'type': 'QualityFocalKD', 'gamma': 2})
