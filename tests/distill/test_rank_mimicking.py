"""Rank Mimicking and PFI (Li et al., AAAI 2022): losses by hand, their guides on a real RetinaNet head, gradients."""
import math

import pytest
import torch

from repro.distill.adapters.base import HeadOutputs
from repro.distill.guides import run_guide
from repro.distill.losses.pfi import PFILoss
from repro.distill.losses.rank_mimicking import RankMimickingLoss
from repro.errors import ReproError

LN3 = math.log(3.0)
HALF_LN_4_3 = 0.5 * math.log(4 / 3)  # KL((½, ½) ‖ (¾, ¼)) = ½ ln(½/¾) + ½ ln(½/¼)


def maps(class1, class0=(0.0, 0.0)):
    """One image, one 1 x 2 level, one anchor, two classes: class 0 and class 1 logits at the two locations."""
    return [torch.tensor([[list(class0)], [list(class1)]]).reshape(1, 2, 1, 2)]


def test_rank_mimicking_by_hand():
    teacher = maps((0.0, 0.0), class0=(5.0, -5.0))    # GT class 1: uniform over the two candidates
    student = maps((LN3, 0.0), class0=(-7.0, 2.0))    # softmax(ln 3, 0) = (¾, ¼); class 0 must not be read
    both = torch.tensor([[True, True]])
    loss = RankMimickingLoss()
    assert loss(student, teacher, [both], [torch.tensor([1])]).item() == pytest.approx(HALF_LN_4_3, abs=1e-6)
    # a GT with one candidate adds KL 0; a GT without candidates is not counted: mean over 2 GTs
    three = torch.tensor([[True, True], [False, True], [False, False]])
    value = loss(student, teacher, [three], [torch.tensor([1, 1, 0])]).item()
    assert value == pytest.approx(HALF_LN_4_3 / 2, abs=1e-6)
    # temperature 2 on doubled student logits is the same distribution
    doubled = maps((2 * LN3, 0.0))
    assert RankMimickingLoss(temperature=2.0)(doubled, teacher, [both], [torch.tensor([1])]).item() == \
        pytest.approx(HALF_LN_4_3, abs=1e-6)


def test_rank_mimicking_on_probabilities_and_over_a_batch():
    teacher = maps((0.0, 0.0))
    student = maps((30.0, -30.0))                     # sigmoid -> (1, 0): softmax = (e, 1) / (e + 1)
    e = math.e
    expected = 0.5 * math.log(0.5 * (e + 1) / e) + 0.5 * math.log(0.5 * (e + 1))
    both = torch.tensor([[True, True]])
    prob = RankMimickingLoss(score='prob')
    assert prob(student, teacher, [both], [torch.tensor([1])]).item() == pytest.approx(expected, abs=1e-6)
    # two images: GTs are averaged over the batch (image 2's single GT agrees with its teacher exactly)
    batch_s = [torch.cat([student[0], teacher[0]])]
    batch_t = [torch.cat([teacher[0], teacher[0]])]
    value = prob(batch_s, batch_t, [both, both], [torch.tensor([1]), torch.tensor([1])]).item()
    assert value == pytest.approx(expected / 2, abs=1e-6)


def test_rank_mimicking_reads_each_anchor_in_mmdet_order():
    """Two anchors at one location: channels are anchor-major (a·C + c), candidates are per anchor."""
    teacher = [torch.zeros(1, 4, 1, 1)]
    student = torch.zeros(1, 4, 1, 1)
    student[0, 1 * 2 + 1] = LN3                       # anchor 1, class 1
    student[0, 0 * 2 + 0] = 9.0                       # anchor 0, class 0: not the GT's class
    loss = RankMimickingLoss()([student], teacher, [torch.tensor([[True, True]])], [torch.tensor([1])])
    assert loss.item() == pytest.approx(HALF_LN_4_3, abs=1e-6)


def test_rank_mimicking_gradient_and_empty_batch():
    student = maps((LN3, 0.0))
    student[0].requires_grad_(True)
    teacher = maps((0.0, 0.0))
    teacher[0].requires_grad_(True)
    RankMimickingLoss()(student, teacher, [torch.tensor([[True, True]])], [torch.tensor([1])]).backward()
    grad = student[0].grad[0, :, 0]
    assert grad[1, 0] > 0 > grad[1, 1] and torch.all(grad[0] == 0)  # only the GT class: p_s − p_t = ±¼
    assert teacher[0].grad is None
    none = RankMimickingLoss()(student, teacher, [torch.zeros(0, 2, dtype=torch.bool)], [torch.zeros(0).long()])
    assert none.item() == 0.0 and none.requires_grad


def test_rank_mimicking_errors():
    with pytest.raises(ReproError, match='temperature is 0'):
        RankMimickingLoss(temperature=0)
    with pytest.raises(ReproError, match="score is 'softmax'"):
        RankMimickingLoss(score='softmax')
    with pytest.raises(ReproError, match='candidates have 3 columns'):
        RankMimickingLoss()(maps((0.0, 0.0)), maps((0.0, 0.0)), [torch.ones(1, 3, dtype=torch.bool)],
                            [torch.tensor([0])])


def test_pfi_by_hand():
    teacher = [torch.zeros(1, 2, 1, 2)]
    student = torch.zeros(1, 2, 1, 2)
    student[0, 0, 0, 0] = 1.0                         # channel mean of the squared difference: ½ at location 0
    weight = [torch.tensor([[[0.5, 2.0]]])]
    assert PFILoss()([student], teacher, weight).item() == pytest.approx(0.5 * 0.5 / 2, abs=1e-7)
    # two levels: the mean of the per-level values (the second level has no difference)
    two = PFILoss()([student, torch.zeros(1, 2, 1, 1)], teacher + [torch.zeros(1, 2, 1, 1)],
                    weight + [torch.ones(1, 1, 1)]).item()
    assert two == pytest.approx(0.125 / 2, abs=1e-7)
    adapted = PFILoss(student_channels=3, teacher_channels=2)
    assert adapted.adapter is not None and PFILoss(4, 4).adapter is None


class FakeContext:
    def __init__(self, student, teacher):
        self.s_out, self.t_out = HeadOutputs(student), HeadOutputs(teacher)
        self.cache = {}  # run_guide keeps guide answers here


def test_prediction_difference_by_hand():
    s = {'cls': [torch.tensor([[[[0.0, 2.0]], [[1.0, 0.0]]]])], 'reg': [torch.ones(1, 4, 1, 2)]}
    t = {'cls': [torch.zeros(1, 2, 1, 2)], 'reg': [torch.zeros(1, 4, 1, 2)]}
    ctx = FakeContext(s, t)
    raw = run_guide({'type': 'prediction_difference'}, ctx)['weight'][0]
    assert torch.allclose(raw, torch.tensor([[[0.5, 2.0]]]))              # (0² + 1²) / 2, (2² + 0²) / 2
    sig = run_guide({'type': 'prediction_difference', 'activation': 'sigmoid'}, ctx)['weight'][0]
    d1, d2 = torch.sigmoid(torch.tensor(1.0)) - 0.5, torch.sigmoid(torch.tensor(2.0)) - 0.5
    assert torch.allclose(sig, torch.stack([d1 ** 2 / 2, d2 ** 2 / 2]).reshape(1, 1, 2))
    both = run_guide({'type': 'prediction_difference', 'preds': ('cls', 'reg')}, ctx)['weight'][0]
    assert torch.allclose(both, raw + 1.0)
    with pytest.raises(ReproError, match="activation is 'softmax'"):
        run_guide({'type': 'prediction_difference', 'activation': 'softmax'}, ctx)
    with pytest.raises(ReproError, match=r"preds \['centerness'\] must be some of"):
        run_guide({'type': 'prediction_difference', 'preds': ('centerness',)}, ctx)


# --- the candidates guide on a real RetinaNet head ---------------------------------------------------------------
def retina_context(method='rm_retinanet.py'):
    from test_guides import context
    return context(method)


def iou(anchors, box):
    """Plain IoU of (M, 4) anchors with one x1y1x2y2 box, written out for the test."""
    w = (torch.minimum(anchors[:, 2], box[2]) - torch.maximum(anchors[:, 0], box[0])).clamp(min=0)
    h = (torch.minimum(anchors[:, 3], box[3]) - torch.maximum(anchors[:, 1], box[1])).clamp(min=0)
    inter = w * h
    area = (anchors[:, 2] - anchors[:, 0]) * (anchors[:, 3] - anchors[:, 1])
    return inter / (area + (box[2] - box[0]) * (box[3] - box[1]) - inter)


def test_candidates_are_the_assigned_positives_of_each_gt():
    ctx = retina_context()
    out = run_guide({'type': 'candidates'}, ctx)
    anchors = ctx.student_adapter.priors(ctx.s_out.preds['cls'])
    pos = ctx.targets.pos                                       # the head's own assignment, flattened the same way
    for n, sample in enumerate(ctx.data_samples):
        boxes = sample.gt_instances.bboxes     # image 0: a tall box (30 x 80 px) and a wide one (60 x 30 px)
        found = out['candidates'][n]
        assert found.shape == (len(boxes), len(anchors)) and found.dtype == torch.bool
        assert torch.equal(out['labels'][n], sample.gt_instances.labels)
        assert torch.equal(found.any(0), pos[n])                 # together: exactly the head's positives
        assert (found.sum(0) <= 1).all() and (found.sum(1) >= 1).all()  # one GT per anchor; every GT has one
        overlaps = torch.stack([iou(anchors, b) for b in boxes])          # (G, L·A)
        best = overlaps.max(0)
        clear = (best.values >= 0.5)
        for g in range(len(boxes)):                              # IoU >= 0.5 (argmax GT) or the GT's best anchor
            mine = clear & (best.indices == g)
            assert found[g][mine].all()
            extra = found[g] & ~mine
            assert torch.allclose(overlaps[g][extra], overlaps[g].max().expand(int(extra.sum())))
            w = anchors[found[g], 2] - anchors[found[g], 0]
            h = anchors[found[g], 3] - anchors[found[g], 1]
            bw, bh = boxes[g, 2] - boxes[g, 0], boxes[g, 3] - boxes[g, 1]
            long, short = (h, w) if bh > bw else (w, h)  # a tall box gets tall or square anchors, never wide
            assert (long >= short).all() and (long > short).any(), 'candidates of the wrong shape (an x/y swap?)'


def test_candidates_by_iou_threshold():
    ctx = retina_context()
    out = run_guide({'type': 'candidates', 'iou_thr': 0.3}, ctx)
    anchors = ctx.student_adapter.priors(ctx.s_out.preds['cls'])
    for n, sample in enumerate(ctx.data_samples):
        expected = torch.stack([iou(anchors, b) >= 0.3 for b in sample.gt_instances.bboxes])
        assert torch.equal(out['candidates'][n], expected)
    with pytest.raises(ReproError, match='iou_thr is 1.5'):
        run_guide({'type': 'candidates', 'iou_thr': 1.5}, ctx)


def test_candidates_need_an_anchor_head():
    from test_guides import context
    with pytest.raises(ReproError, match='needs an anchor head'):
        run_guide({'type': 'candidates'}, context('pgd_fcos.py'))


# --- where the gradients go ---------------------------------------------------------------------------------------
def test_rm_reaches_the_cls_branch_only_and_pfi_the_features_only():
    from test_detector import batch, build, kd_grads
    model, _ = build('rm_pfi_retinanet.py')
    reached, losses = kd_grads(model)
    assert torch.isfinite(losses['loss_kd_rm']) and losses['loss_kd_rm'] > 0
    assert torch.isfinite(losses['loss_kd_pfi']) and losses['loss_kd_pfi'] > 0
    assert any(n.startswith('bbox_head.retina_cls') for n in reached)
    assert any(n.startswith('bbox_head.cls_convs') for n in reached)
    assert not any(n.startswith(('bbox_head.retina_reg', 'bbox_head.reg_convs')) for n in reached)
    assert any(n.startswith('neck.') for n in reached) and any(n.startswith('backbone.') for n in reached)
    model, _ = build('pfi_retinanet.py')
    reached, _ = kd_grads(model)  # the prediction-difference weight is detached: the head gets nothing
    assert any(n.startswith('neck.') for n in reached) and not any(n.startswith('bbox_head.') for n in reached)
    model.loss(*batch())['loss_kd_pfi'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
