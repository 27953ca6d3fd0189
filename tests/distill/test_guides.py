"""Guides: what they compute for feature losses, checked against the GT boxes of a real head's locations."""
import pytest
import torch

from repro.distill.guides import GUIDES, KDContext, run_guide
from repro.errors import ReproError


def context(method='pgd_atss.py'):
    from test_detector import batch, build
    model, _ = build(method)
    inputs, samples = batch()
    with torch.no_grad():
        feats = list(model.extract_feat(inputs))
        t_feats = list(model.teacher.extract_feat(inputs))
        s_out = model.student_adapter.forward(feats, 1)
        t_out = model.teacher_adapter.forward(t_feats, 1)
    return KDContext(model.student_adapter, model.teacher_adapter, feats, t_feats, s_out, t_out, samples)


def test_gt_box_marks_exactly_the_locations_inside_the_boxes():
    ctx = context()
    out = run_guide({'type': 'gt_box'}, ctx)
    strides = [8, 16, 32, 64, 128]
    offset = ctx.teacher_adapter.head.prior_generator.center_offset
    for n, sample in enumerate(ctx.data_samples):
        boxes = sample.gt_instances.bboxes  # image 0 holds a tall box (10..40 x 20..100) and a wide one
        for level, (fg, bg) in enumerate(zip(out['fg'], out['bg'])):
            h, w = fg.shape[-2:]
            ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
            cx, cy = (xs + offset) * strides[level], (ys + offset) * strides[level]
            inside = ((cx[..., None] > boxes[:, 0]) & (cx[..., None] < boxes[:, 2]) &
                      (cy[..., None] > boxes[:, 1]) & (cy[..., None] < boxes[:, 3])).any(-1).float()
            assert torch.equal(fg[n], inside)
            assert torch.equal(bg[n], 1 - inside)
    assert out['fg'][0][0].sum() > 0  # the P3 map has locations inside image 0's boxes


def test_unknown_guide_is_a_clear_error():
    with pytest.raises(ReproError, match="unknown guide type 'nope'"):
        run_guide({'type': 'nope'}, None)
    with pytest.raises(ReproError, match='bad arguments for guide gt_box'):
        run_guide({'type': 'gt_box', 'oops': 1}, context())
    assert {'gt_box', 'prediction_guided'} <= set(GUIDES)



def test_terms_that_ask_a_guide_alike_share_one_computation(monkeypatch):
    """GID's four terms name the same general-instance selection: it runs once per step, not four times."""
    import repro.distill.guides as guides
    from test_detector import batch, build
    model, _ = build('gid_gfl.py')
    calls = []
    original = guides.GUIDES['general_instances']
    monkeypatch.setitem(guides.GUIDES, 'general_instances', lambda ctx, **kw: calls.append(kw) or original(ctx, **kw))
    terms = [t for t in model.spec.active if t.guide and t.guide['type'] == 'general_instances']
    assert len(terms) == 4
    losses = model.loss(*batch())
    assert len(calls) == 1 and all(f'loss_kd_{t.name}' in losses for t in terms)


@pytest.mark.parametrize('method', ['pgd_atss.py', 'pgd_gfl.py', 'pgd_fcos.py'])
def test_pgd_terms_of_different_xi_share_the_base_and_match_eq_1_computed_directly(method):
    """The shared ξ-free work (repro.distill.guides.prediction_guided.pgw_base) gives, for each term's ξ, exactly
    the masks of eq. 1-5 computed from scratch with quality_scores, pgw_weights and background_mask."""
    from repro.distill.guides.prediction_guided import centres_of, per_level
    from repro.distill.pgw import background_mask, max_over_predictions, pgw_weights, quality_scores
    ctx = context(method)
    adapter, t_out = ctx.teacher_adapter, ctx.t_out
    head = adapter.head
    anchors = t_out.preds['cls'][0].shape[1] // head.cls_out_channels
    scores = adapter.flatten(t_out.preds['cls'], head.cls_out_channels).sigmoid()
    reg = adapter.flatten(t_out.preds['reg'], t_out.preds['reg'][0].shape[1] // anchors)
    priors = adapter.priors(t_out.preds['reg'])
    centres = centres_of(priors, adapter)
    level = ctx.locations[1]
    for xi in (0.8, 0.6):  # PGD's cls and reg terms, one context: the second reuses the first's base
        out = run_guide({'type': 'prediction_guided', 'xi': xi, 'k': 9}, ctx)
        fg, bg, importance = [], [], []
        for n, sample in enumerate(ctx.data_samples):
            gt = sample.gt_instances
            q = quality_scores(scores[n], adapter.decode(reg[n], priors), centres, gt.bboxes, gt.labels, xi,
                               masked=False)  # the released top-K ranks every location of the image
            fg.append(pgw_weights(max_over_predictions(q, anchors), centres[::anchors], level, k=9,
                                  gt_boxes=gt.bboxes))
            importance.append(pgw_weights(max_over_predictions(q, anchors), centres[::anchors], level, k=9,
                                          gt_boxes=gt.bboxes, normalise=False))
            bg.append(background_mask(centres[::anchors], gt.bboxes, level))
        for got, want in zip(out['fg'] + out['bg'] + out['importance'],
                             per_level(torch.stack(fg), ctx.sizes) + per_level(torch.stack(bg), ctx.sizes) +
                             per_level(torch.stack(importance), ctx.sizes)):
            assert torch.allclose(got, want, atol=1e-7)
    assert sum(1 for key in ctx.cache if key[0] == 'pgw_base') == 1
