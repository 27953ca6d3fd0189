"""PGW module of Yang et al., "Prediction-Guided Distillation for Dense Object Detection", ECCV 2022.

Eq. 1–4 and the Table 5 foreground strategies, pure torch, one image at a time, FPN levels flattened into one
location axis L (level-major, as mmdet concatenates them). Every function runs under ``no_grad``: the outputs are
loss weights, never a gradient path. Nothing reads a tensor value on the host (no ``.item()``, no branching on
values), and nothing loops over objects.
"""
import torch
from mmdet.structures.bbox import bbox_overlaps
from torch import Tensor

STRATEGIES = ('box', 'box_gauss', 'centre', 'quality', 'topk_eq', 'kde', 'ours')
# Where the top-K of 'ours', 'topk_eq' and 'kde' is taken: 'image' ranks every location of the image (all levels) by
# q without the in-box indicator and zeros the in-box test afterwards (the authors' released code); 'box' ranks only
# the locations strictly inside the GT box (the paper's text, eq. 1-2).
TOPK_DOMAINS = ('image', 'box')


def inside_boxes(points_xy: Tensor, boxes: Tensor) -> Tensor:
    """(G, L) bool: point l lies strictly inside box g (the indicator 1[X_i in b] of eq. 1, border excluded).

    Args:
        points_xy: (L, 2) location centres as (x, y).
        boxes: (G, 4) boxes x1y1x2y2.
    """
    x, y = points_xy[None, :, 0], points_xy[None, :, 1]
    return (x > boxes[:, None, 0]) & (x < boxes[:, None, 2]) & (y > boxes[:, None, 1]) & (y < boxes[:, None, 3])


@torch.no_grad()
def quality_scores(cls_scores: Tensor, boxes: Tensor, priors_xy: Tensor, gt_boxes: Tensor, gt_labels: Tensor,
                   xi: float, masked: bool = True) -> Tensor:
    """Eq. 1: q = 1[X in b] · p^(1−ξ) · IoU(b, b̂)^ξ for every (GT, location) pair of one image.

    Several predictions per location (anchors): flatten them into L (priors_xy repeated per anchor), call this, then
    take the paper's q̂_i = max_j q over a location's predictions with :func:`max_over_predictions`.

    Args:
        cls_scores: (L, C) teacher class probabilities (already sigmoided).
        boxes: (L, 4) teacher decoded boxes x1y1x2y2.
        priors_xy: (L, 2) location centres (x, y), mmdet prior order.
        gt_boxes: (G, 4) x1y1x2y2.
        gt_labels: (G,) int class of each GT; p is the teacher score for that class.
        xi: ξ in [0, 1], balance between classification (1 − ξ) and localisation (ξ).
        masked: apply the indicator 1[X in b]; False gives p^(1−ξ) · IoU^ξ everywhere, the quality by which the
            released code ranks its top-K (PGW's topk_domain='image').

    Returns:
        (G, L) quality in [0, 1]; 0 where the location centre is not strictly inside the GT box (``masked``).
    """
    return quality_from_terms(*quality_terms(cls_scores, boxes, priors_xy, gt_boxes, gt_labels, masked=masked), xi)


@torch.no_grad()
def quality_terms(cls_scores: Tensor, boxes: Tensor, priors_xy: Tensor | None, gt_boxes: Tensor, gt_labels: Tensor,
                  inside: Tensor | None = None, masked: bool = True) -> tuple[Tensor, Tensor]:
    """The ξ-free part of eq. 1, (1[X in b]·p, 1[X in b]·IoU) each (G, L), so that quality for several ξ (PGD's cls
    and reg terms) costs one decode, IoU and inside test: see :func:`quality_from_terms`. Arguments as
    :func:`quality_scores`; `inside` (G, L) bool, when the caller has it, replaces the inside test. ``masked=False``
    returns (p, IoU) without the indicator (the released code's ranking quality; priors_xy may then be None)."""
    p = cls_scores[:, gt_labels.long()].t().clamp(0, 1)                # (G, L)
    iou = bbox_overlaps(gt_boxes, boxes).clamp(0, 1)                   # (G, L)
    if not masked:
        return p, iou
    inside = inside_boxes(priors_xy, gt_boxes) if inside is None else inside
    return p * inside, iou * inside


def quality_from_terms(p: Tensor, iou: Tensor, xi: float) -> Tensor:
    """q = p^(1−ξ) · IoU^ξ. Of the masked terms: where 1[X in b] = 0 one factor is 0^a with a > 0, or both exponents
    meet 0 only where the other factor carries the mask (ξ = 0 or 1), so q keeps eq. 1's zero outside the box. Of the
    unmasked terms (``quality_terms(masked=False)``): the released code's q, non-zero outside the box too."""
    return p.pow(1 - xi) * iou.pow(xi)


def max_over_predictions(quality: Tensor, num_per_location: int) -> Tensor:
    """(G, L·A) → (G, L): q̂_i = max over the A predictions of each location (mmdet orders anchors innermost)."""
    return quality.reshape(quality.shape[0], -1, num_per_location).amax(-1)


def per_level_normalise(importance: Tensor, level_index: Tensor) -> Tensor:
    """Eq. 4: M = I / (number of non-zero I on the same FPN level); levels with no non-zero entry stay 0.

    Args:
        importance: (L,) non-negative importance I.
        level_index: (L,) int FPN level of each location.
    """
    nonzero = (importance > 0).to(importance.dtype)
    # A buffer of size L holds the per-level counts (a level index is < L) without reading num_levels on the host.
    counts = torch.zeros_like(importance).index_add_(0, level_index.long(), nonzero)
    return importance / counts[level_index.long()].clamp_min(1)


def _quad_form(d: Tensor, a: Tensor, b: Tensor, c: Tensor, eps: float) -> Tensor:
    """dᵀ(Σ + εI)⁻¹d for Σ = [[a, b], [b, c]] in closed form; d (..., 2), a/b/c broadcast to d[..., 0]."""
    a, c = a + eps, c + eps
    det = a * c - b * b                 # ≥ ε(a + c) + ε² > 0 for a PSD Σ: finite for every degenerate Σ
    dx, dy = d[..., 0], d[..., 1]
    return (c * dx * dx - 2 * b * dx * dy + a * dy * dy) / det


@torch.no_grad()
def pgw_weights(quality: Tensor, priors_xy: Tensor, level_index: Tensor, k: int = 30, strategy: str = 'ours',
                gt_boxes: Tensor | None = None, eps: float = 1e-2, box_gauss_alpha: float = 1.0,
                centre_ratio: float = 0.2, normalise: bool = True, inside: Tensor | None = None,
                topk_domain: str = 'image') -> Tensor:
    """The PGW foreground mask M (eq. 2–4) of one image, or one of the Table 5 alternatives.

    A location is in GT o's box when its centre lies strictly inside the box (``gt_boxes`` given) or, without boxes,
    when its q > 0. The top-K set T^o of 'ours', 'topk_eq' and 'kde' depends on ``topk_domain``:

    - 'image' (the authors' released code): the K locations of the whole image (all levels) with the highest q as
      given. Pass q without the in-box indicator (``quality_terms(masked=False)``) for the released ranking. The fit
      below uses all K; afterwards every value whose location is not in the box is set to 0.
    - 'box' (the paper's text): the K in-box locations with the highest q (fewer when fewer exist).

    Per GT:

    - 'ours': MLE Gaussian of T^o's (x, y) (eq. 2: mean and 1/K covariance), I^o = exp(−½ dᵀ(Σ + εI)⁻¹d) on T^o,
      0 elsewhere (eq. 3: unnormalised, peak 1). The ridge ε (px², computed in float64) makes K = 1, collinear and
      coincident points finite; a selected location's value is clamped to the dtype's smallest normal so it stays
      in (0, 1] and counts as non-zero in eq. 4.
    - 'topk_eq': I^o = 1 on T^o (in-box members only).
    - 'kde': I^o(x) = (1/K) Σ_k exp(−½ (x − x_k)ᵀ(h²Σ + εI)⁻¹(x − x_k)) on T^o with Scott's factor h = K^(−1/6)
      (the scipy ``gaussian_kde`` default in 2-D); unit-peak kernels, so values lie in [1/K, 1].
    - 'quality': I^o = q on every in-box location.
    - 'box': I^o = 1 on every in-box location (DeFeat / FGD).
    - 'box_gauss': I^o = exp(−½((x − cx)²/σx² + (y − cy)²/σy²)) on in-box locations, σx = α·w/2, σy = α·h/2
      (TADF-style; α = ``box_gauss_alpha`` = 1 puts the box edges at one σ).
    - 'centre': I^o = 1 where |x − cx| ≤ r·w/2 and |y − cy| ≤ r·h/2, r = ``centre_ratio`` = 0.2 (a 0.2W × 0.2H area);
      a box whose central area holds no location centre gets no weight (taken literally, no fallback).

    Then I = max over GTs, and (``normalise``) eq. 4 divides I by the count of non-zero I on each FPN level — a count,
    not a sum: the paper's M is I / Σ_{i,j} 1[I ≠ 0] per level, so a level's weights sum to the mean non-zero I.

    Args:
        quality: (G, L) from :func:`quality_scores`.
        priors_xy: (L, 2) location centres (x, y).
        level_index: (L,) int FPN level of each location.
        k: K of the top-K (30 in the paper's text; 9 for ATSS in the released configs).
        strategy: one of ``STRATEGIES``.
        gt_boxes: (G, 4) x1y1x2y2; required by 'box', 'box_gauss', 'centre'.
        eps: ridge added to Σ's diagonal (px²).
        box_gauss_alpha: α of 'box_gauss'.
        centre_ratio: side ratio of 'centre'.
        normalise: apply eq. 4; False returns I.
        inside: (G, L) bool inside_boxes(priors_xy, gt_boxes), when the caller has it.
        topk_domain: one of ``TOPK_DOMAINS``, for the top-K strategies.

    Returns:
        (L,) weights M (or I); all zero when G = 0.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f'unknown PGW strategy {strategy!r}; expected one of {STRATEGIES}')
    if topk_domain not in TOPK_DOMAINS:
        raise ValueError(f'unknown PGW top-K domain {topk_domain!r}; expected one of {TOPK_DOMAINS}')
    if gt_boxes is None and strategy in ('box', 'box_gauss', 'centre'):
        raise ValueError(f'strategy {strategy!r} needs gt_boxes')
    L = quality.shape[1]
    dtype = quality.dtype
    if inside is None:
        inside = inside_boxes(priors_xy, gt_boxes) if gt_boxes is not None else quality > 0
    valid = inside                                                                           # (G, L)
    x, y = priors_xy[None, :, 0], priors_xy[None, :, 1]

    if strategy in ('box', 'box_gauss', 'centre', 'quality'):
        if strategy == 'quality':
            w = quality * valid
        else:
            cx, cy = ((gt_boxes[:, 0] + gt_boxes[:, 2]) / 2)[:, None], ((gt_boxes[:, 1] + gt_boxes[:, 3]) / 2)[:, None]
            bw, bh = (gt_boxes[:, 2] - gt_boxes[:, 0])[:, None], (gt_boxes[:, 3] - gt_boxes[:, 1])[:, None]
            if strategy == 'box':
                w = valid.to(dtype)
            elif strategy == 'box_gauss':
                sx, sy = (box_gauss_alpha * bw / 2).clamp_min(1e-6), (box_gauss_alpha * bh / 2).clamp_min(1e-6)
                w = torch.exp(-0.5 * (((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2)) * valid
            else:
                w = (((x - cx).abs() <= centre_ratio * bw / 2) & ((y - cy).abs() <= centre_ratio * bh / 2)).to(dtype)
    else:
        w = _topk_importance(quality, valid, priors_xy, k, strategy, eps, topk_domain)
    importance = torch.cat([quality.new_zeros(1, L), w.to(dtype)]).amax(0)   # max over GTs; zeros when G = 0
    return per_level_normalise(importance, level_index) if normalise else importance


def _topk_importance(quality: Tensor, valid: Tensor, priors_xy: Tensor, k: int, strategy: str, eps: float,
                     domain: str) -> Tensor:
    """(G, L) I^o for the top-K strategies ('ours', 'topk_eq', 'kde'); see :func:`pgw_weights`."""
    G, L = quality.shape
    k = min(k, L)
    if domain == 'box':
        score = torch.where(valid, quality, quality.new_full((), -1.0))   # non-candidates rank last
    else:
        score = quality
    idx = score.topk(k, dim=1).indices                                     # (G, K)
    keep = valid.gather(1, idx)                                            # (G, K) in the box: may be non-zero
    fit = keep if domain == 'box' else torch.ones_like(keep)               # (G, K) the points the fit uses
    if strategy == 'topk_eq':
        vals = keep.to(quality.dtype)
    else:
        pts = priors_xy.double()[idx]                                      # (G, K, 2)
        m = fit.double()
        n = m.sum(1).clamp_min(1)                                          # (G,)
        mu = (pts * m[..., None]).sum(1) / n[:, None]                      # eq. 2 mean, (G, 2)
        d = (pts - mu[:, None]) * m[..., None]
        a = (d[..., 0] ** 2).sum(1) / n                                    # eq. 2 MLE covariance (1/K), (G,)
        b = (d[..., 0] * d[..., 1]).sum(1) / n
        c = (d[..., 1] ** 2).sum(1) / n
        if strategy == 'ours':
            maha = _quad_form(d, a[:, None], b[:, None], c[:, None], eps)    # (G, K)
            dens = torch.exp(-0.5 * maha)
        else:  # 'kde': Scott's rule kernel covariance h²Σ, h = K^(−1/6) with K the fitted point count
            h2 = n.pow(-1.0 / 3.0)[:, None, None]
            diff = pts[:, :, None, :] - pts[:, None, :, :]                 # (G, K, K, 2)
            maha = _quad_form(diff, (h2 * a[:, None, None]), (h2 * b[:, None, None]), (h2 * c[:, None, None]), eps)
            dens = (torch.exp(-0.5 * maha) * m[:, None, :]).sum(2) / n[:, None]
        tiny = torch.finfo(quality.dtype).tiny
        vals = dens.clamp(tiny, 1.0).to(quality.dtype) * keep
    return quality.new_zeros(G, L).scatter_(1, idx, vals)


@torch.no_grad()
def background_mask(priors_xy: Tensor, gt_boxes: Tensor, level_index: Tensor, normalise: bool = True,
                    inside: Tensor | None = None) -> Tensor:
    """N^cls of eq. 5: 1⁻ / (count of 1⁻ on the level), with 1⁻ = 1 where the location lies inside no GT box.

    The paper defines the background by the boxes, not by a zero PGW weight: a location inside a box but outside T^o
    gets neither foreground nor background weight in eq. 5 (and eq. 6 has no background term at all).

    Args:
        priors_xy: (L, 2) location centres (x, y).
        gt_boxes: (G, 4) x1y1x2y2; G = 0 makes every location background.
        level_index: (L,) int FPN level of each location.
        normalise: divide by the per-level background count; False returns the 0/1 indicator.
        inside: (G, L) bool inside_boxes(priors_xy, gt_boxes), when the caller has it.

    Returns:
        (L,) background weights in the dtype of ``priors_xy``.
    """
    inside = inside_boxes(priors_xy, gt_boxes) if inside is None else inside
    bg = (~torch.cat([inside.new_zeros(1, inside.shape[1]), inside]).any(0)).to(priors_xy.dtype)
    return per_level_normalise(bg, level_index) if normalise else bg
