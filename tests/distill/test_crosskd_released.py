"""CrossKD's KD normalisers as the authors' released CrossKD{GFL,ATSS,RetinaNet,FCOS} compute them (the default), and
eq. 3 as the paper prints it (distill.variant=paper), on a few hand-built locations over the five FPN levels.

Every case has three interesting rows (anchor predictions): row 0 with teacher weight w = σ(0) = 0.5, row 1 with
w = σ(ln 3) = 0.75 (one class logit ln 3, the rest 0), row 2 with label weight 0. All other rows have label weight 0
and equal student and teacher predictions. Row 0 is the only assigned positive.
"""
import math

import pytest
import torch
from test_detector import build

from repro.distill.adapters.base import HeadOutputs, Targets
from repro.errors import ReproError

LN2, LN3, LN16 = math.log(2), math.log(3), math.log(16)
# KL(q ‖ uniform) of one edge over 17 bins, teacher bin 0 at logit ln 16: q = (16/32, 1/32 × 16), p = 1/17:
# 1/2 ln(17/2) + 1/2 ln(17/32) = 1/2 ln(289/64) = ln(17/8)
D = math.log(17 / 8)
# QFL of one class: BCE(σ(0) ‖ σ(ln 3)) = −(0.75 ln 0.5 + 0.25 ln 0.5) = ln 2, times |0.5 − 0.75| = 0.25
QFL_ROW1 = 0.25 * LN2
SIZES = ((2, 1), (1, 1), (1, 1), (1, 1), (1, 1))  # rows 0 and 1 on level 0, row 2 on level 1


def level_maps(rows: torch.Tensor, anchors: int) -> list[torch.Tensor]:
    """(L·A, K) rows, in mmdet's level / row / column / anchor order -> per level (1, A·K, H, W)."""
    maps, start = [], 0
    for h, w in SIZES:
        chunk = rows[start:start + h * w * anchors]
        maps.append(chunk.reshape(h, w, -1).permute(2, 0, 1)[None])
        start += h * w * anchors
    return maps


def case(model, student_reg: dict[int, torch.Tensor], teacher_reg: torch.Tensor):
    """Student (cross-head) and teacher predictions and the targets; `student_reg` replaces the teacher's reg rows."""
    head = model.bbox_head
    anchors = head.num_base_priors
    rows = sum(h * w for h, w in SIZES) * anchors
    classes = head.cls_out_channels
    t_cls = torch.zeros(rows, classes)
    t_cls[1, 0] = LN3
    t_reg = teacher_reg[None].repeat(rows, 1)
    s_reg = t_reg.clone()
    for row, value in student_reg.items():
        s_reg[row] = value
    valid = torch.zeros(1, rows)
    valid[0, :2] = 1
    pos = torch.zeros(1, rows, dtype=torch.bool)
    pos[0, 0] = True
    teacher = {'cls': level_maps(t_cls, anchors), 'reg': level_maps(t_reg, anchors)}
    student = {'cls': level_maps(torch.zeros(rows, classes), anchors), 'reg': level_maps(s_reg, anchors)}
    return student, teacher, Targets(valid=valid, pos=pos, num_pos=torch.tensor(2.0),
                                     centerness_sum=torch.tensor(0.8))


def values(model, student, teacher, targets) -> dict[str, float]:
    """The cls and reg terms' normalised losses (before their weights)."""
    t_out = HeadOutputs(preds=teacher)
    return {t.name: model._prediction_term(t, student, teacher, t_out, targets).item()
            for t in model.spec.active if t.name in ('cls', 'reg')}


def term(model, name):
    return next(t for t in model.spec.active if t.name == name)


def gfl_case(model):
    """Every teacher edge peaks at bin 0 (logit ln 16, the other 16 bins 0); the student's edges equal the teacher's
    except where it is uniform: edge 0 on row 0, edges 0 and 1 on row 1, all four on row 2 (label weight 0)."""
    bins = model.bbox_head.reg_max + 1
    teacher = torch.zeros(4 * bins)
    teacher[::bins] = LN16
    one_edge, two_edges = teacher.clone(), teacher.clone()
    one_edge[0] = 0.0
    two_edges[[0, bins]] = 0.0
    return case(model, {0: one_edge, 1: two_edges, 2: torch.zeros(4 * bins)}, teacher)


def test_gfl_regression_kd_averages_the_four_edges_and_divides_by_the_summed_teacher_weights():
    model, _ = build('crosskd_gfl.py')
    got = values(model, *gfl_case(model))
    # row 0: one edge differs, mean over 4 edges D/4, w 0.5; row 1: two edges, D/2, w 0.75; row 2: label weight 0
    # (0.5 · D/4 + 0.75 · D/2) / (0.5 + 0.75) = 0.5 D / 1.25 = 0.4 D; the config's weight 4.0 multiplies it
    assert got['reg'] == pytest.approx(0.4 * D, rel=1e-5)
    assert term(model, 'reg').weight == 4.0
    # cls: QFL on row 1 only, divided by the number of positives (2)
    assert got['cls'] == pytest.approx(QFL_ROW1 / 2, rel=1e-5)


def test_gfl_paper_variant_normalises_by_the_summed_region_weights():
    model, _ = build('crosskd_gfl.py', ['distill.variant=paper'])
    got = values(model, *gfl_case(model))
    # reg: R = the positives (row 0): D/4 · 1 / 1
    assert got['reg'] == pytest.approx(D / 4, rel=1e-5)
    # cls: R = 1 on every location with a label weight (rows 0 and 1): QFL_ROW1 / 2 ... and num_pos is 2 as well,
    # so check S directly with one more valid location
    student, teacher, targets = gfl_case(model)
    targets.valid[0, 2] = 1
    assert values(model, student, teacher, targets)['cls'] == pytest.approx(QFL_ROW1 / 3, rel=1e-5)


def test_distribution_kl_kd_edge_sum_is_four_times_the_mean():
    model, _ = build('crosskd_gfl.py', ['distill.terms.reg.loss.edges=sum'])
    assert values(model, *gfl_case(model))['reg'] == pytest.approx(1.6 * D, rel=1e-5)


def box_case(model):
    """Deltas: the teacher's are 0 (its box is the anchor); the student's doubles the width (row 0: GIoU 1/2, so
    1 − GIoU = 1/2) or width and height (row 1: IoU = GIoU = 1/4, loss 3/4) about the same centre."""
    stds = model.bbox_head.bbox_coder.stds
    wide = torch.tensor([0.0, 0.0, LN2 / stds[2], 0.0])
    big = torch.tensor([0.0, 0.0, LN2 / stds[2], LN2 / stds[3]])
    return case(model, {0: wide, 1: big, 2: big}, torch.zeros(4))


@pytest.mark.parametrize('method', ['crosskd_atss.py', 'crosskd_retinanet.py'])
def test_box_kd_is_divided_by_the_number_of_positives(method):
    model, _ = build(method)
    got = values(model, *box_case(model))
    # (0.5 · 1/2 + 0.75 · 3/4) / num_pos 2 = 0.8125 / 2; dividing by the summed weights would give 0.8125 / 1.25
    assert got['reg'] == pytest.approx(0.8125 / 2, rel=1e-5)
    assert got['cls'] == pytest.approx(QFL_ROW1 / 2, rel=1e-5)


@pytest.mark.parametrize('method', ['crosskd_atss.py', 'crosskd_retinanet.py'])
def test_box_kd_paper_variant(method):
    model, _ = build(method, ['distill.variant=paper'])
    got = values(model, *box_case(model))
    assert got['reg'] == pytest.approx(0.5, rel=1e-5)          # row 0 only: 1/2 · 1 / 1
    assert got['cls'] == pytest.approx(QFL_ROW1 / 2, rel=1e-5)  # S = 2 locations with a label weight


def fcos_case(model):
    """Distances: the teacher's (1, 1, 1, 1); the student's doubles left and right (row 0: IoU 1/2, −log IoU = ln 2)
    or all four (row 1: IoU 1/4, ln 4), about the same point."""
    return case(model, {0: torch.tensor([2.0, 1, 2, 1]), 1: torch.tensor([2.0, 2, 2, 2]),
                        2: torch.tensor([2.0, 2, 2, 2])}, torch.ones(4))


def test_fcos_kd_is_divided_by_the_summed_centerness_targets():
    model, _ = build('crosskd_fcos.py')
    got = values(model, *fcos_case(model))
    # centerness_sum 0.8: reg (0.5 ln 2 + 0.75 ln 4) / 0.8; cls QFL_ROW1 / 0.8
    assert got['reg'] == pytest.approx((0.5 * LN2 + 0.75 * 2 * LN2) / 0.8, rel=1e-5)
    assert got['cls'] == pytest.approx(QFL_ROW1 / 0.8, rel=1e-5)
    assert (term(model, 'cls').weight, term(model, 'reg').weight, model.spec.layer) == (0.4, 0.75, 2)


def test_fcos_paper_variant():
    model, _ = build('crosskd_fcos.py', ['distill.variant=paper'])
    got = values(model, *fcos_case(model))
    assert got['reg'] == pytest.approx(LN2, rel=1e-5)            # row 0 only, S = 1
    assert got['cls'] == pytest.approx(QFL_ROW1 / 2, rel=1e-5)


def test_centerness_sum_on_a_head_without_centerness_targets_is_refused():
    model, _ = build('crosskd_gfl.py', ['distill.terms.reg.norm=centerness_sum'])
    student, teacher, targets = gfl_case(model)
    targets.centerness_sum = None
    with pytest.raises(ReproError, match="GFLHead has no centerness targets"):
        values(model, student, teacher, targets)


def test_an_unknown_variant_is_refused_in_one_line():
    with pytest.raises(ReproError, match=r"distill.variant is 'printed': this method defines released, paper$"):
        build('crosskd_gfl.py', ['distill.variant=printed'])
