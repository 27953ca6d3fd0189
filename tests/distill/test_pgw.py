"""PGW (the PGD paper's prediction-guided weighting) against small cases computed by hand (arithmetic in comments)."""
import io
import math
import tokenize

import pytest
import torch

from repro.distill import pgw
from repro.distill.pgw import (STRATEGIES, background_mask, max_over_predictions, per_level_normalise, pgw_weights,
                               quality_scores)


def grid(nx: int, ny: int, stride: float = 4.0) -> torch.Tensor:
    """(ny·nx, 2) centres (x, y) = (s/2 + s·i, s/2 + s·j), x varying fastest as in mmdet's prior generators."""
    ys, xs = torch.meshgrid(torch.arange(ny) * stride + stride / 2, torch.arange(nx) * stride + stride / 2,
                            indexing='ij')
    return torch.stack([xs.reshape(-1), ys.reshape(-1)], -1)


def index_of(points: torch.Tensor, x: float, y: float) -> int:
    return int(((points[:, 0] == x) & (points[:, 1] == y)).nonzero()[0, 0])


def test_quality_scores_by_hand():
    priors = torch.tensor([[5.0, 5.0], [2.0, 5.0], [15.0, 5.0]])
    cls = torch.tensor([[0.9, 0.25], [0.1, 0.64], [0.9, 0.9]])
    boxes = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 5.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    gt = torch.tensor([[0.0, 0.0, 10.0, 10.0], [0.0, 0.0, 10.0, 10.0]])
    labels = torch.tensor([1, 0])
    q = quality_scores(cls, boxes, priors, gt, labels, xi=0.5)
    assert q.shape == (2, 3)
    # GT 0 (class 1): loc 0: p = 0.25, IoU = 1          → 0.25^0.5 · 1^0.5 = 0.5
    #                 loc 1: p = 0.64, IoU = 50/100 = 0.5 → 0.8 · √0.5 = 0.565685
    #                 loc 2: centre x = 15 outside the box → 0 (although p = 0.9 and IoU = 1)
    assert q[0].tolist() == pytest.approx([0.5, 0.8 * math.sqrt(0.5), 0.0], abs=1e-6)
    # GT 1 (class 0) picks the other column: loc 0: √0.9 · 1 = 0.948683; loc 1: √0.1 · √0.5 = √0.05 = 0.223607
    assert q[1].tolist() == pytest.approx([math.sqrt(0.9), math.sqrt(0.05), 0.0], abs=1e-6)
    # ξ = 0.8 on GT 0, loc 1: 0.64^0.2 · 0.5^0.8 = exp(0.2 ln 0.64 + 0.8 ln 0.5) = 0.917 · 0.574 = 0.52780
    q8 = quality_scores(cls, boxes, priors, gt, labels, xi=0.8)
    assert q8[0, 1].item() == pytest.approx(math.exp(0.2 * math.log(0.64) + 0.8 * math.log(0.5)), abs=1e-6)


def test_max_over_predictions_takes_the_best_anchor_of_a_location():
    q = torch.tensor([[0.1, 0.7, 0.2, 0.4, 0.3, 0.0]])   # 3 locations × 2 anchors, anchors innermost
    assert max_over_predictions(q, 2).tolist() == [[pytest.approx(0.7), pytest.approx(0.4), pytest.approx(0.3)]]


def corner_case(corners, values):
    """A 10 × 10 stride-4 level, one GT box [0, 0, 40, 40], low quality everywhere but the given corners."""
    priors = grid(10, 10)
    q = torch.full((1, 100), 0.01)
    idx = [index_of(priors, x, y) for x, y in corners]
    q[0, idx] = torch.tensor(values)
    return priors, q, idx


def test_topk_gaussian_in_closed_form():
    # K = 4 at the corners of a rectangle: x ∈ {10, 30}, y ∈ {14, 26} → μ = (20, 20);
    # Σ = diag(mean of 10², mean of 6²) = diag(100, 36), off-diagonal (±10)(±6) sums to 0.
    # Every corner: dᵀΣ⁻¹d = 10²/100 + 6²/36 = 2 → weight exp(−1) = 0.367879.
    priors, q, idx = corner_case([(10, 14), (30, 14), (10, 26), (30, 26)], [0.9, 0.8, 0.7, 0.6])
    lvl = torch.zeros(100, dtype=torch.long)
    w = pgw_weights(q, priors, lvl, k=4, gt_boxes=torch.tensor([[0.0, 0.0, 40.0, 40.0]]), eps=0.0, normalise=False)
    assert w[idx].tolist() == pytest.approx([math.exp(-1)] * 4, abs=1e-6)
    others = torch.ones(100, dtype=torch.bool)
    others[idx] = False
    assert (w[others] == 0).all()
    # The default ridge ε = 1e-2 px²: 100/100.01 + 36/36.01 ≈ 1.99962 → exp(−0.99981), within 1e-4 of exp(−1).
    w_eps = pgw_weights(q, priors, lvl, k=4, gt_boxes=torch.tensor([[0.0, 0.0, 40.0, 40.0]]), normalise=False)
    assert w_eps[idx].tolist() == pytest.approx([math.exp(-1)] * 4, abs=1e-4)
    # Eq. 4: the only level holds 4 non-zero weights → each is exp(−1)/4.
    m = pgw_weights(q, priors, lvl, k=4, gt_boxes=torch.tensor([[0.0, 0.0, 40.0, 40.0]]), eps=0.0)
    assert m[idx].tolist() == pytest.approx([math.exp(-1) / 4] * 4, abs=1e-6)


def test_topk_gaussian_with_correlation_matches_a_plain_python_fit():
    pts = [(10, 10), (14, 18), (22, 22), (26, 34), (18, 10)]
    priors, q, idx = corner_case(pts, [0.9, 0.85, 0.8, 0.75, 0.7])
    w = pgw_weights(q, priors, torch.zeros(100, dtype=torch.long), k=5, eps=0.0, normalise=False,
                    gt_boxes=torch.tensor([[0.0, 0.0, 40.0, 40.0]]))
    mx, my = sum(p[0] for p in pts) / 5, sum(p[1] for p in pts) / 5
    a = sum((p[0] - mx) ** 2 for p in pts) / 5        # MLE: 1/K, not 1/(K − 1)
    c = sum((p[1] - my) ** 2 for p in pts) / 5
    b = sum((p[0] - mx) * (p[1] - my) for p in pts) / 5
    det = a * c - b * b
    expect = [math.exp(-0.5 * (c * (x - mx) ** 2 - 2 * b * (x - mx) * (y - my) + a * (y - my) ** 2) / det)
              for x, y in pts]
    assert b != 0 and w[idx].tolist() == pytest.approx(expect, abs=1e-6)
    assert int((w > 0).sum()) == 5


def two_thin_boxes():
    """A 12 × 8 stride-4 level (x centres 2..46, y centres 2..30), a tall thin and a wide flat GT box."""
    priors = grid(12, 8)
    gt = torch.tensor([[17.0, 1.0, 23.0, 31.0],     # tall: x ∈ {18, 22}, every y → 16 locations
                       [1.0, 13.0, 47.0, 19.0]])    # wide: y ∈ {14, 18}, every x → 24 locations
    cls = torch.full((96, 1), 0.5)
    boxes = torch.cat([priors - 6, priors + 6], 1)
    q = quality_scores(cls, boxes, priors, gt, torch.zeros(2, dtype=torch.long), xi=0.8)
    return priors, gt, q


def in_box(priors, box):
    x, y = priors[:, 0], priors[:, 1]
    return (x > box[0]) & (x < box[2]) & (y > box[1]) & (y < box[3])


def test_xy_order_tall_and_wide_boxes():
    priors, gt, q = two_thin_boxes()
    tall, wide = in_box(priors, gt[0]), in_box(priors, gt[1])
    assert int(tall.sum()) == 16 and int(wide.sum()) == 24
    assert ((q[0] > 0) == tall).all() and ((q[1] > 0) == wide).all()
    lvl = torch.zeros(96, dtype=torch.long)
    for strategy in STRATEGIES:
        w = pgw_weights(q, priors, lvl, k=6, strategy=strategy, gt_boxes=gt, normalise=False)
        assert (w[~(tall | wide)] == 0).all(), strategy
        if strategy != 'centre':   # 0.2W of the tall box is 1.2 px wide around x = 20: no centre falls in it
            assert (w[tall] > 0).any() and (w[wide] > 0).any(), strategy
    # Each GT alone: its top-6 lie inside its own box.
    for g, mask in ((0, tall), (1, wide)):
        w = pgw_weights(q[g:g + 1], priors, lvl, k=6, gt_boxes=gt[g:g + 1], normalise=False)
        assert int((w > 0).sum()) == 6 and (w[~mask] == 0).all()


def test_xy_order_centre_and_box_gauss_on_a_tall_box():
    priors = grid(48, 32, 1.0)                         # centres x 0.5..47.5, y 0.5..31.5
    gt = torch.tensor([[15.0, 0.0, 25.0, 30.0]])       # tall: centre (20, 15), w = 10, h = 30
    q, lvl = torch.zeros(1, priors.shape[0]), torch.zeros(priors.shape[0], dtype=torch.long)
    # centre: |x − 20| ≤ 0.1·10 = 1 → x ∈ {19.5, 20.5}; |y − 15| ≤ 0.1·30 = 3 → y ∈ {12.5, ..., 17.5}: 2 × 6.
    w = pgw_weights(q, priors, lvl, strategy='centre', gt_boxes=gt, normalise=False)
    x, y = priors[:, 0], priors[:, 1]
    assert torch.equal(w > 0, ((x - 20).abs() <= 1) & ((y - 15).abs() <= 3)) and int((w > 0).sum()) == 12
    # box_gauss, σx = 5, σy = 15: at (20.5, 15.5) exp(−½(0.1² + (1/30)²)); at (24.5, 15.5) exp(−½(0.9² + (1/30)²)).
    w = pgw_weights(q, priors, lvl, strategy='box_gauss', gt_boxes=gt, normalise=False)
    assert w[index_of(priors, 20.5, 15.5)].item() == pytest.approx(math.exp(-0.5 * (0.01 + 1 / 900)))
    assert w[index_of(priors, 24.5, 15.5)].item() == pytest.approx(math.exp(-0.5 * (0.81 + 1 / 900)))
    assert (w[~in_box(priors, gt[0])] == 0).all()


def test_overlapping_gts_take_the_max():
    priors, gt, q = two_thin_boxes()
    lvl = torch.zeros(96, dtype=torch.long)
    for strategy in STRATEGIES:
        both = pgw_weights(q, priors, lvl, k=8, strategy=strategy, gt_boxes=gt, normalise=False)
        one = pgw_weights(q[:1], priors, lvl, k=8, strategy=strategy, gt_boxes=gt[:1], normalise=False)
        two = pgw_weights(q[1:], priors, lvl, k=8, strategy=strategy, gt_boxes=gt[1:], normalise=False)
        assert torch.equal(both, torch.maximum(one, two)), strategy
    # By hand on the 'quality' strategy: one location inside both boxes with q 0.3 and 0.7 → 0.7.
    k = index_of(priors, 18, 14)
    qq = torch.zeros(2, 96)
    qq[0, k], qq[1, k] = 0.3, 0.7
    w = pgw_weights(qq, priors, lvl, strategy='quality', gt_boxes=gt, normalise=False)
    assert w[k].item() == pytest.approx(0.7) and int((w > 0).sum()) == 1


def test_per_level_normalisation():
    # Level 0 (locations 0–3): non-zero 0.3, 0.6, 0.9 → count 3 → 0.1, 0.2, 0.3.
    # Level 1 (locations 4–6): non-zero 0.5, 1.0     → count 2 → 0.25, 0.5.   Level 2 (location 7): nothing → 0.
    imp = torch.tensor([0.3, 0.0, 0.6, 0.9, 0.5, 1.0, 0.0, 0.0])
    lvl = torch.tensor([0, 0, 0, 0, 1, 1, 1, 2])
    assert per_level_normalise(imp, lvl).tolist() == pytest.approx([0.1, 0, 0.2, 0.3, 0.25, 0.5, 0, 0], abs=1e-6)
    # The same through pgw_weights ('quality', no boxes: the candidates are q > 0), levels interleaved.
    perm = torch.tensor([4, 0, 7, 5, 1, 2, 6, 3])
    m = pgw_weights(imp[perm][None], torch.zeros(8, 2), lvl[perm], strategy='quality')
    assert m.tolist() == pytest.approx([0.25, 0.1, 0, 0.5, 0, 0.2, 0, 0.3], abs=1e-6)


def test_degenerate_k1_collinear_and_coincident():
    box = torch.tensor([[0.0, 0.0, 40.0, 40.0]])
    lvl = torch.zeros(100, dtype=torch.long)
    # K = 1: Σ = 0 → Σ + εI; the single point is the mean → weight exactly 1, everything else 0.
    priors, q, idx = corner_case([(22, 18)], [0.9])
    w = pgw_weights(q, priors, lvl, k=1, gt_boxes=box, normalise=False)
    assert w[idx].tolist() == [1.0] and int((w > 0).sum()) == 1
    # K = 5 on the diagonal y = x at t = −2..2 steps of (4, 4): Σ has rank 1 (variance along the line 2 steps²).
    # Along the line dᵀΣ⁻¹d → t²/2 as ε → 0: weights exp(−1), exp(−¼), 1, exp(−¼), exp(−1).
    pts = [(10, 10), (14, 14), (18, 18), (22, 22), (26, 26)]
    priors, q, idx = corner_case(pts, [0.9, 0.85, 0.8, 0.75, 0.7])
    w = pgw_weights(q, priors, lvl, k=5, gt_boxes=box, normalise=False)
    assert torch.isfinite(w).all() and (w[idx] > 0).all() and (w[idx] <= 1).all()
    assert w[idx].tolist() == pytest.approx([math.exp(-1), math.exp(-0.25), 1, math.exp(-0.25), math.exp(-1)],
                                            rel=1e-3)
    # A vanishing ridge still gives the collinear limit (the float64 determinant is ε(a + c) + ε², never 0).
    w = pgw_weights(q, priors, lvl, k=5, gt_boxes=box, eps=1e-12, normalise=False)
    assert w[idx].tolist() == pytest.approx([math.exp(-1), math.exp(-0.25), 1, math.exp(-0.25), math.exp(-1)],
                                            rel=1e-3)
    # All K points identical (coincident centres on two levels): Σ = 0 → all weights 1, counted per level.
    priors2 = torch.tensor([[20.0, 20.0], [20.0, 20.0], [4.0, 4.0]])
    w = pgw_weights(torch.tensor([[0.9, 0.8, 0.1]]), priors2, torch.tensor([0, 1, 1]), k=2, gt_boxes=box)
    assert w.tolist() == [1.0, 1.0, 0.0]


def test_fewer_candidates_than_k():
    # Only 4 locations inside the box. The paper's in-box domain: K = 30 takes those 4 (the square corners: each
    # weight exp(−1)).
    priors = grid(10, 10)
    box = torch.tensor([[8.0, 8.0, 16.0, 16.0]])       # x, y ∈ {10, 14}
    q = torch.rand(1, 100) * in_box(priors, box[0])
    lvl = torch.zeros(100, dtype=torch.long)
    w = pgw_weights(q, priors, lvl, k=30, gt_boxes=box, eps=0.0, normalise=False, topk_domain='box')
    assert int((w > 0).sum()) == 4 and w[w > 0].tolist() == pytest.approx([math.exp(-1)] * 4, abs=1e-6)
    # The released image domain (the default): the top 30 of the whole image are the 4 plus 26 out-of-box locations;
    # the Gaussian is fitted on all 30 (so the 4 are no longer its corners), then the 26 are zeroed.
    w = pgw_weights(q, priors, lvl, k=30, gt_boxes=box, eps=0.0, normalise=False)
    assert int((w > 0).sum()) == 4 and (w[in_box(priors, box[0])] > 0).all() and (w <= 1).all()
    assert w[w > 0].tolist() != pytest.approx([math.exp(-1)] * 4, abs=1e-3)


def test_strategies_by_hand():
    priors = grid(10, 10)
    box = torch.tensor([[0.0, 0.0, 40.0, 40.0]])
    lvl = torch.zeros(100, dtype=torch.long)
    cid = index_of(priors, 18, 18)
    # A quality peak at (18, 18) decaying with distance; exact values differ at every location (no ties).
    d2 = (priors - torch.tensor([18.0, 18.0])).pow(2).sum(1) + torch.arange(100) * 1e-3
    q = torch.exp(-d2 / 200)[None]
    kw = dict(gt_boxes=box, normalise=False)
    # box: all 100 centres (2..38) are inside → 1 everywhere; normalised: 1/100.
    assert (pgw_weights(q, priors, lvl, strategy='box', **kw) == 1).all()
    assert pgw_weights(q, priors, lvl, strategy='box', gt_boxes=box).tolist() == pytest.approx([0.01] * 100)
    # centre: 0.2W × 0.2H around (20, 20) → |x − 20| ≤ 4 and |y − 20| ≤ 4 → x, y ∈ {18, 22}: 4 locations at 1.
    w = pgw_weights(q, priors, lvl, strategy='centre', **kw)
    expect = torch.zeros(100)
    expect[[index_of(priors, x, y) for x in (18, 22) for y in (18, 22)]] = 1
    assert torch.equal(w, expect)
    # topk_eq: the 5 highest q, weight 1.
    w = pgw_weights(q, priors, lvl, k=5, strategy='topk_eq', **kw)
    expect = torch.zeros(100)
    expect[q[0].topk(5).indices] = 1
    assert torch.equal(w, expect)
    # quality: q itself inside the box.
    assert torch.equal(pgw_weights(q, priors, lvl, strategy='quality', **kw), q[0])
    # box_gauss, σ = w/2 = h/2 = 20: at (18, 18) d = (−2, −2) → exp(−½(4/400 + 4/400)) = exp(−0.01), the maximum.
    w = pgw_weights(q, priors, lvl, strategy='box_gauss', **kw)
    assert w[cid].item() == pytest.approx(math.exp(-0.01)) and w.max() == w[cid] and (w > 0).all()
    # ours and kde: support exactly the top-9 set, values in (0, 1], maximum at the quality peak (the centre of the 9).
    top9 = torch.zeros(100, dtype=torch.bool)
    top9[q[0].topk(9).indices] = True
    for strategy in ('ours', 'kde'):
        w = pgw_weights(q, priors, lvl, k=9, strategy=strategy, **kw)
        assert torch.equal(w > 0, top9) and (w <= 1).all() and w.argmax() == cid, strategy
    # kde on K = 9 points: each value in [1/K, 1] (the self-kernel alone gives 1/K).
    assert (w[top9] >= 1 / 9).all()
    # 'ours' on the 3 × 3 block around (18, 18): Σ = diag(32/3, 32/3); the centre is the mean → exactly 1.
    w = pgw_weights(q, priors, lvl, k=9, eps=0.0, **kw)
    assert w[cid].item() == pytest.approx(1.0) and w[index_of(priors, 22, 22)].item() == pytest.approx(
        math.exp(-0.5 * (16 + 16) / (32 / 3)), abs=1e-6)   # corner: dᵀΣ⁻¹d = 2·16/(32/3) = 3 → exp(−1.5)


def test_no_objects_and_many_objects():
    torch.manual_seed(0)
    priors = torch.cat([grid(16, 16, 8.0), grid(8, 8, 16.0), grid(4, 4, 32.0)])
    lvl = torch.cat([torch.full((256,), 0), torch.full((64,), 1), torch.full((16,), 2)])
    L = priors.shape[0]
    cls, tboxes = torch.rand(L, 3), torch.cat([priors - 10, priors + 10], 1)
    for G in (0, 50):
        xy = torch.rand(G, 2) * 100
        gt = torch.cat([xy, xy + 8 + torch.rand(G, 2) * 60], 1)
        q = quality_scores(cls, tboxes, priors, gt, torch.randint(0, 3, (G,)), xi=0.8)
        assert q.shape == (G, L)
        union = torch.stack([torch.zeros(L, dtype=torch.bool)] + [in_box(priors, b) for b in gt]).any(0)
        for strategy in STRATEGIES:
            w = pgw_weights(q, priors, lvl, k=30, strategy=strategy, gt_boxes=gt)
            assert w.shape == (L,) and torch.isfinite(w).all() and (w >= 0).all(), strategy
            assert (w[~union] == 0).all(), strategy
            if G == 0:
                assert (w == 0).all()
        bg = background_mask(priors, gt, lvl)
        assert torch.equal(bg > 0, ~union)


def test_background_mask():
    # Level 0: 4 locations, 1 inside the box → 3 background → 1/3 each. Level 1: 2 locations, none inside → ½.
    priors = torch.tensor([[5.0, 5.0], [15.0, 5.0], [25.0, 5.0], [35.0, 5.0], [10.0, 30.0], [30.0, 30.0]])
    lvl = torch.tensor([0, 0, 0, 0, 1, 1])
    gt = torch.tensor([[10.0, 0.0, 20.0, 10.0]])
    assert background_mask(priors, gt, lvl).tolist() == pytest.approx([1 / 3, 0, 1 / 3, 1 / 3, 0.5, 0.5])
    assert background_mask(priors, gt, lvl, normalise=False).tolist() == [1, 0, 1, 1, 1, 1]
    assert background_mask(priors, torch.zeros(0, 4), lvl).tolist() == pytest.approx([0.25] * 4 + [0.5] * 2)


def test_bad_arguments():
    q, priors, lvl = torch.zeros(1, 4), torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)
    with pytest.raises(ValueError, match='unknown PGW strategy'):
        pgw_weights(q, priors, lvl, strategy='nope')
    with pytest.raises(ValueError, match='needs gt_boxes'):
        pgw_weights(q, priors, lvl, strategy='box')
    with pytest.raises(ValueError, match='unknown PGW top-K domain'):
        pgw_weights(q, priors, lvl, topk_domain='all')


def test_module_has_no_python_loops():
    tokens = tokenize.generate_tokens(io.StringIO(open(pgw.__file__).read()).readline)
    assert not {t.string for t in tokens if t.type == tokenize.NAME} & {'for', 'while'}
