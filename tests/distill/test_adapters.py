"""Head adapters against the mmdet heads they wrap: predictions, kept features, decoding and target assignment.

Every test runs over every registered adapter (plus FCOS with its norm_on_bbox / centerness_on_reg variant, and
TOOD anchor-based), on a small head built from the repo's own detector config: 32 channels, towers of 2 layers (so
layer 1 has layers before and after it), 5 FPN levels for a 128x128 image. DDOD's deformable layer cannot run on the
1x1 and 2x2 levels, so those cases build it with plain convs, and test_ddod_with_dcn runs the DCN on larger maps.
TOOD's shared stack is one position (layer 1 = the whole stack's output): the generic tests branch for it where
they read the towers, and the tests at the end check what is TOOD's own.
"""
from __future__ import annotations

import functools
import math
from pathlib import Path

import pytest
import torch
from mmengine.logging import MessageHub

from repro.distill.adapters import ADAPTERS, adapter_for
from repro.distill.adapters.base import HeadAdapter
from repro.errors import ReproError

REPO = Path(__file__).resolve().parents[2]
SIZES = (16, 8, 4, 2, 1)  # strides 8..128 on a 128x128 image; heads with fewer levels (RTMDet, YOLOX: 8..32) take the
# first
IMG = 128
CHANNELS = 32  # GN heads use 32 groups
STACKED = 2
NUM_CLASSES = 3
PRED_KEYS = ('cls', 'reg', 'centerness')  # the order of head.forward's outputs
OBJECTNESS_KEYS = ('cls', 'reg', 'objectness')  # YOLOX's
FCOS_TRICKS = dict(norm_on_bbox=True, centerness_on_reg=True, center_sampling=True, center_sample_radius=1.5)
# RTMDet-L's head: exp on the distances; objectness folded into the class logit (RTMDetHead's default)
RTMDET_TRICKS = dict(exp_on_reg=True, with_objectness=True)
TOOD_TRICKS = dict(anchor_type='anchor_based')  # deltas from the anchor instead of distances from its center
CASES = [(name, {}) for name in sorted(ADAPTERS)] + [('FCOSHead', FCOS_TRICKS), ('RTMDetSepBNHead', RTMDET_TRICKS),
                                                     ('TOODHead', TOOD_TRICKS)]
IDS = [name + ('-tricks' if extra else '') for name, extra in CASES]
# GT boxes (x1, y1, x2, y2) per image: a tall thin one, then a wide flat one; neither meets its own transpose
GT_BOXES = ([[96., 4., 120., 64.]], [[4., 100., 100., 124.]])
# how far outside its GT box a positive prior's center may lie: MaxIoU assignment has no center condition
# SimOTA tests the point half a stride right and down of the prior it regresses from (16 px at stride 32)
CENTER_MARGIN = {'RetinaHead': 16.0, 'YOLOXHead': 16.0}
# heads whose priors are points (x, y, stride, stride); the others' are anchors
POINT_HEADS = ('FCOSHead', 'AutoAssignHead', 'RTMDetHead', 'RTMDetSepBNHead', 'YOLOXHead')
# where a point head's points sit within their cell, in strides: AutoAssign, RTMDet and YOLOX on stride multiples
POINT_OFFSET = {'FCOSHead': 0.5, 'AutoAssignHead': 0.0, 'RTMDetHead': 0.0, 'RTMDetSepBNHead': 0.0, 'YOLOXHead': 0.0}
# heads whose cls loss runs with avg_factor 1 and is then divided by the positives' summed assignment IoUs (TOOD:
# alignment metrics); their Targets.num_pos counts the positives instead (FIDELITY.md, RTMDet and TOOD), checked with
# the point heads' convention below
IOU_NORMALISED = ('RTMDetHead', 'RTMDetSepBNHead', 'TOODHead')
# the layers an adapter exposes: STACKED tower layers, except TOOD's shared stack, one position (the whole stack)
NUM_LAYERS = {'TOODHead': 1}
# heads without a config of their own, built from a sibling's config: RTMDet's configs use the SepBN head; the plain
# RTMDetHead (one tower for all levels, a Scale per level) takes the same settings less the SepBN-only ones
SIBLING = {'RTMDetHead': ('RTMDetSepBNHead', ('share_conv', 'use_depthwise', 'exp_on_reg'))}
# mmcv's deformable conv (DDOD's first tower layer) rejects maps under 3x3 and SIZES go down to 1x1: the shared
# cases build DDOD with plain convs (the adapter runs either alike); test_ddod_with_dcn covers the DCN layer
BUILD_EXTRA = {'DDODHead': dict(use_dcn=False)}

pytestmark = pytest.mark.usefixtures('one_thread')


@functools.cache
def detector_configs() -> dict:
    """bbox_head type -> model config, from configs/detectors/ (the first config found per head type)."""
    from repro.plan.compile import load_config
    found = {}
    for path in sorted((REPO / 'configs' / 'detectors').glob('*.py')):
        model = load_config(path).model
        found.setdefault(model.bbox_head.type, model)
    return found


def build_head(name: str, **extra):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    sibling, dropped = SIBLING.get(name, (name, ()))
    model = detector_configs().get(sibling)
    if model is None:
        pytest.fail(f'no config under configs/detectors/ has a {name}: add one so its adapter is tested')
    cfg = model.bbox_head.copy()
    cfg.type = name
    for key in dropped:
        cfg.pop(key, None)
    cfg.update(in_channels=CHANNELS, feat_channels=CHANNELS, stacked_convs=STACKED, num_classes=NUM_CLASSES,
               train_cfg=model.get('train_cfg'), test_cfg=model.get('test_cfg'))
    cfg.update(BUILD_EXTRA.get(name, {}), **extra)
    torch.manual_seed(0)
    head = MODELS.build(cfg)
    for module in head.modules():  # BN heads (RTMDet): train-mode runs leave the eval-mode statistics alone
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.momentum = 0.0
    for level, scale in enumerate(getattr(head, 'scales', [])):  # distinct scales, so a missed Scale shows
        scale.scale.data.fill_(0.6 + 0.2 * level)
    if name == 'TOODHead':  # its resampling offsets start near zero: move them, so a missed deform_sampling shows
        torch.nn.init.normal_(head.reg_offset_module[-1].weight, std=0.1)
    return head


@pytest.fixture(scope='module', autouse=True)
def an_epoch():
    """TOODHead.get_targets reads the epoch from mmengine's MessageHub, which holds none outside a Runner: epoch 0
    (ATSS assignment) unless a test sets another; test_tood_targets_follow_the_epoch runs both assigners."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    before = hub.get_info('epoch')
    hub.update_info('epoch', 0)
    yield
    if before is None:
        hub.runtime_info.pop('epoch', None)
    else:
        hub.update_info('epoch', before)


@pytest.fixture(scope='module', params=CASES, ids=IDS)
def case(request):
    name, extra = request.param
    head = build_head(name, **extra)
    return name, head, adapter_for(head)


def priors_per_location(head) -> int:
    """A, the priors per location: YOLOXHead has one point and no num_base_priors."""
    return getattr(head, 'num_base_priors', 1)


def sizes_of(head) -> tuple[int, ...]:
    """The map sizes of the head's FPN levels for a 128x128 image."""
    return SIZES[:head.prior_generator.num_levels]


@pytest.fixture(scope='module')
def feats(case):
    torch.manual_seed(1)
    return [torch.randn(2, CHANNELS, s, s) for s in sizes_of(case[1])]


@pytest.fixture(scope='module')
def runs(case, feats):
    """runs(training) -> (head.forward(feats), {layer: adapter.forward(feats, layer)}), computed once per mode."""
    _, head, adapter = case
    memo = {}

    def run(training: bool):
        if training not in memo:
            head.train(training)
            with torch.no_grad():
                memo[training] = (head.forward(feats),
                                  {layer: adapter.forward(feats, layer) for layer in range(adapter.num_layers + 1)})
        head.train(training)
        return memo[training]
    return run


def tower_inputs(adapter, branch: str, x, level: int):
    """[x_0 = x, x_1, ..., x_n]: the (activated) input of each tower layer on FPN level `level`, and the tower
    output last. The towers are the head's own modules: `cls_convs`, or `cls_convs[level]` for a head with a tower
    per level (RTMDet's SepBN head), or YOLOX's `multi_level_cls_convs[level]`, or TOOD's shared `inter_convs`."""
    head = adapter.head
    towers = (getattr(head, f'{branch}_convs', None) or getattr(head, f'multi_level_{branch}_convs', None)
              or head.inter_convs)
    xs = [x]
    for conv in (towers[level] if isinstance(towers[0], (torch.nn.ModuleList, torch.nn.Sequential)) else towers):
        xs.append(conv(xs[-1]))
    return xs


def tower_output(adapter, branch: str, x, level: int):
    """What `predict` takes for `branch` on FPN level `level`: the tower output; for TOOD, whose decomposition reads
    every stack layer, the stack's (activated) outputs concatenated."""
    xs = tower_inputs(adapter, branch, x, level)
    return torch.cat(xs[1:], dim=1) if type(adapter.head).__name__ == 'TOODHead' else xs[-1]


def assert_preds_equal(adapter, preds: dict, ref: tuple):
    """`preds` reproduce head.forward's `ref`: compared as the head's loss_by_feat takes them (`loss_inputs`), which
    is head.forward's output; for TOOD that is σ of the 'cls' logits (the aligned score), else `preds` as they are."""
    keys = OBJECTNESS_KEYS if 'objectness' in preds else PRED_KEYS
    assert set(preds) == set(keys[:len(ref)])
    for key, got_maps, ref_maps in zip(keys, adapter.loss_inputs(preds), ref):
        assert len(got_maps) == len(ref_maps)
        for got, want in zip(got_maps, ref_maps):
            assert got.shape == want.shape and got.dtype == want.dtype, key
            torch.testing.assert_close(got, want, atol=1e-6, rtol=0, msg=key)


def reg_channels(head, preds) -> int:
    """K, the reg channels per prior: 4, or 4*(reg_max+1) for GFL."""
    return preds['reg'][0].shape[1] // priors_per_location(head)


@pytest.mark.parametrize('training', [False, True], ids=['eval', 'train'])
def test_forward_matches_head(case, runs, training):
    _, head, adapter = case
    ref, outs = runs(training)
    num_layers = NUM_LAYERS.get(type(head).__name__, STACKED)
    assert adapter.num_layers == num_layers and sorted(outs) == list(range(num_layers + 1))
    for layer, out in outs.items():
        assert out.layer == layer
        assert_preds_equal(adapter, out.preds, ref)


@pytest.mark.parametrize('training', [False, True], ids=['eval', 'train'])
def test_cross_forward_on_own_features_reproduces_head(case, feats, runs, training):
    _, head, adapter = case
    ref, outs = runs(training)
    with torch.no_grad():
        for layer, out in outs.items():
            kept = out.feats
            before = {b: [f.clone() for f in maps] for b, maps in kept.items()}
            assert_preds_equal(adapter, adapter.cross_forward(kept, layer), ref)
            for branch, maps in kept.items():  # the other head's features are not modified (in-place ReLU)
                for got, want in zip(maps, before[branch]):
                    assert torch.equal(got, want), (branch, layer)
        # at the last layer only the predictors run: cross_forward == predict on the tower outputs
        last = adapter.num_layers
        cross = adapter.cross_forward(outs[last].feats, last)
        for level, x in enumerate(feats):
            cls_out, reg_out = tower_output(adapter, 'cls', x, level), tower_output(adapter, 'reg', x, level)
            for key, value in adapter.predict(cls_out, reg_out, level).items():
                torch.testing.assert_close(cross[key][level], value, atol=1e-6, rtol=0)


def test_cross_forward_passes_gradient_to_features(case, runs):
    _, head, adapter = case
    layer = 1
    kept = {b: [f.clone().requires_grad_() for f in maps] for b, maps in runs(True)[1][layer].feats.items()}
    preds = adapter.cross_forward(kept, layer)
    sum(m.sum() for maps in preds.values() for m in maps).backward()
    for branch in kept:
        assert kept[branch][0].grad is not None and kept[branch][0].grad.abs().sum() > 0, branch


def test_kept_features_are_pre_activation_tower_inputs(case, feats, runs):
    name, head, adapter = case
    _, outs = runs(True)
    with torch.no_grad():
        for branch in ('cls', 'reg'):
            for level, x in enumerate(feats):
                assert outs[0].feats[branch][level] is x
        for layer in range(1, adapter.num_layers + 1):
            out = outs[layer]
            for branch in ('cls', 'reg'):
                for level, x in enumerate(feats):
                    tower = adapter.tower(branch, level)
                    xs = tower_inputs(adapter, branch, x, level)
                    kept = out.feats[branch][level]
                    want = tower[layer - 1](xs[layer - 1], activate=False)
                    if name == 'TOODHead':  # layer 1 is the whole shared stack: its layers' outputs, concatenated
                        want = torch.cat([conv(xs[i], activate=False) for i, conv in enumerate(tower)], dim=1)
                        xs = xs[:layer] + [torch.cat(xs[1:], dim=1)]
                    torch.testing.assert_close(kept, want, atol=1e-6, rtol=0)
                    if level == 0:  # pre-activation: negatives where the activation would have changed them
                        assert (kept < 0).any() and not torch.equal(kept, xs[layer])
                        if isinstance(tower[layer - 1].activate, torch.nn.ReLU):
                            assert (xs[layer] >= 0).all()
                    torch.testing.assert_close(adapter.activate(layer, kept), xs[layer], atol=1e-6, rtol=0)
                    torch.testing.assert_close(kept, want, atol=1e-6, rtol=0)  # activate() did not overwrite it


def test_priors_format(case, feats):
    name, head, adapter = case
    priors = adapter.priors(feats)
    assert priors.shape == (sum(s * s for s in sizes_of(head)) * priors_per_location(head), 4)
    if name in POINT_HEADS:  # points (x, y, stride_w, stride_h), row-major: level 2 (stride 32), row 1, col 2
        index = 16 * 16 + 8 * 8 + 1 * 4 + 2
        offset = POINT_OFFSET[name]
        torch.testing.assert_close(priors[index], torch.tensor([(2 + offset) * 32, (1 + offset) * 32, 32., 32.]))
    else:  # anchors x1y1x2y2: the first anchor of level 1's location (row 2, col 3) is centered at (48, 32)
        index = (16 * 16 + 2 * 8 + 3) * priors_per_location(head)
        center = (priors[index, :2] + priors[index, 2:]) / 2
        torch.testing.assert_close(center, torch.tensor([48., 32.]))


def _known_decode(name, head, priors):
    """(reg (M, K), priors (M, 4), expected boxes (M, 4)) for hand-computed cases, or None for another head."""
    if name == 'GFLHead':
        # location (row, col) of level l, stride s: anchor center (col*s, row*s); peaked distances (l,t,r,b) bins
        cases = [(0, 3, 5, 8, (1, 2, 3, 4)), (1, 2, 3, 16, (2, 3, 4, 5)), (4, 0, 0, 128, (0, 1, 0, 2))]
        offsets = [0, 256, 320, 336, 340]
        reg = torch.zeros(len(cases), 4, head.reg_max + 1)
        rows, want = [], []
        for i, (level, row, col, stride, dist) in enumerate(cases):
            rows.append(offsets[level] + row * SIZES[level] + col)
            for side, bin_ in enumerate(dist):
                reg[i, side, bin_] = 60.0  # softmax ~ one-hot
            cx, cy = col * stride, row * stride
            d = [v * stride for v in dist]
            want.append([cx - d[0], cy - d[1], cx + d[2], cy + d[3]])
        return reg.reshape(len(cases), -1), priors[rows], torch.tensor(want, dtype=torch.float32)
    if name in ('RetinaHead', 'ATSSHead', 'DDODHead'):
        anchors = priors[::7][:20]
        zeros = torch.zeros(len(anchors), 4)
        # (0, 0, log 2, log 2) in coder units doubles width and height about the same center
        stds = torch.tensor(head.bbox_coder.stds)
        means = torch.tensor(head.bbox_coder.means)
        double = (torch.tensor([0., 0., math.log(2), math.log(2)]) - means) / stds
        ctr, wh = (anchors[:, :2] + anchors[:, 2:]) / 2, anchors[:, 2:] - anchors[:, :2]
        doubled = torch.cat([ctr - wh, ctr + wh], dim=1)
        return (torch.cat([zeros, double.expand(len(anchors), 4)]), torch.cat([anchors, anchors]),
                torch.cat([anchors, doubled]))
    if name == 'FCOSHead':
        index = 16 * 16 + 8 * 8 + 1 * 4 + 2  # point (80, 48), stride 32
        point = priors[index:index + 1]
        if head.norm_on_bbox and head.training:  # distances in strides
            return torch.tensor([[1., 2., 3., 4.]]), point, torch.tensor([[80. - 32, 48. - 64, 80. + 96, 48. + 128]])
        return torch.tensor([[10., 20., 30., 40.]]), point, torch.tensor([[70., 28., 110., 88.]])
    if name in ('RTMDetHead', 'RTMDetSepBNHead'):  # distances in pixels in both modes, points on stride multiples
        index = 16 * 16 + 8 * 8 + 1 * 4 + 2  # point (64, 32), stride 32
        return torch.tensor([[10., 20., 30., 40.]]), priors[index:index + 1], torch.tensor([[54., 12., 94., 72.]])
    if name == 'YOLOXHead':  # (dx, dy, log w, log h) in strides from the point, in both modes
        index = 16 * 16 + 8 * 8 + 1 * 4 + 2  # point (64, 32), stride 32: center (80, 24), 64 x 32
        reg = torch.tensor([[0.5, -0.25, math.log(2.), 0.]])
        return reg, priors[index:index + 1], torch.tensor([[48., 8., 112., 40.]])
    if name == 'TOODHead':  # boxes x1y1x2y2 in strides, in both modes: level 1 (stride 16) and level 4 (stride 128)
        rows = [16 * 16 + 2 * 8 + 3, 16 * 16 + 8 * 8 + 4 * 4 + 2 * 2]
        reg = torch.tensor([[1., 2., 3., 4.], [-0.5, 0., 0.25, 1.]])
        return reg, priors[rows], torch.tensor([[16., 32., 48., 64.], [-64., 0., 32., 128.]])
    if name == 'AutoAssignHead':  # distances in pixels in both modes
        index = 16 * 16 + 8 * 8 + 1 * 4 + 2  # point (64, 32), stride 32
        return torch.tensor([[10., 20., 30., 40.]]), priors[index:index + 1], torch.tensor([[54., 12., 94., 72.]])
    return None


@pytest.mark.parametrize('training', [False, True], ids=['eval', 'train'])
def test_decode_known_boxes(case, feats, training):
    name, head, adapter = case
    head.train(training)
    known = _known_decode(name, head, adapter.priors(feats))
    if known is None:
        pytest.skip(f'no hand-computed decode case for {name}')
    reg, priors, want = known
    torch.testing.assert_close(adapter.decode(reg, priors), want, atol=1e-3, rtol=1e-5)


def test_decode_is_differentiable(case, feats, runs):
    _, head, adapter = case
    preds = runs(True)[1][0].preds
    k = reg_channels(head, preds)
    reg = adapter.flatten(preds['reg'], k).reshape(-1, k).clone().requires_grad_()
    priors = adapter.priors(feats).repeat(len(feats[0]), 1)  # flatten is image-major
    boxes = adapter.decode(reg, priors)
    assert boxes.shape == (reg.shape[0], 4) and torch.isfinite(boxes).all()
    boxes.sum().backward()
    assert reg.grad is not None and reg.grad.abs().sum() > 0


def _data_samples():
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    samples = []
    for i, boxes in enumerate(GT_BOXES):
        sample = DetDataSample(metainfo=dict(img_shape=(IMG, IMG), pad_shape=(IMG, IMG), ori_shape=(IMG, IMG),
                                             batch_input_shape=(IMG, IMG), scale_factor=(1.0, 1.0)))
        sample.gt_instances = InstanceData(bboxes=torch.tensor(boxes), labels=torch.tensor([i + 1] * len(boxes)))
        samples.append(sample)
    return samples


def _levels(head) -> list[slice]:
    """Each level's slice of the L flattened locations."""
    sizes = [s * s * priors_per_location(head) for s in sizes_of(head)]
    ends = torch.tensor(sizes).cumsum(0).tolist()
    return [slice(e - n, e) for e, n in zip(ends, sizes)]


def _by_image(head, tensors: list, n: int):
    """Rows the head's loss flattens level by level, images concatenated within a level -> (N, L*D)."""
    rows = torch.cat(tensors).split([(sl.stop - sl.start) * n for sl in _levels(head)])
    return torch.cat([r.reshape(n, -1) for r in rows], dim=1)


def _run_head_loss(head, feats, samples) -> dict:
    """What head.loss hands its cls and bbox losses: labels, label weights and cls logits in the (N, L[*C])
    layout, the cls avg_factor, and the prediction argument of every loss_bbox call. AutoAssign calls no
    loss_cls; for it, the per-image (L, num_gt) candidate masks its center prior returns. YOLOX's cls loss takes the
    positives only; for it, the objectness targets (N, L), 1 at the positives."""
    cls_calls, bbox_calls, candidates = [], [], []
    loss_cls = head.loss_cls
    if type(head).__name__ == 'TOODHead' and MessageHub.get_current_instance().get_info('epoch') < head.initial_epoch:
        loss_cls = head.initial_loss_cls  # TOOD's focal loss of its ATSS epochs
    if hasattr(head, 'loss_obj'):
        obj_calls = []
        hook = head.loss_obj.register_forward_hook(lambda m, a, o: obj_calls.append(a[1]))
        with torch.no_grad():
            boxes = []
            bbox_hook = head.loss_bbox.register_forward_hook(lambda m, a, o: boxes.append(a[0]))
            try:
                head.loss(feats, samples)
            finally:
                hook.remove()
                bbox_hook.remove()
        return dict(objectness=obj_calls[0].reshape(len(samples), -1), boxes=boxes)
    hooks = [loss_cls.register_forward_hook(lambda m, a, k, o: cls_calls.append((a, k)), with_kwargs=True),
             head.loss_bbox.register_forward_hook(lambda m, a, k, o: bbox_calls.append((a[0], k)), with_kwargs=True)]
    if hasattr(head, 'center_prior'):
        hooks.append(head.center_prior.register_forward_hook(lambda m, a, o: candidates.append(o[1])))
    try:
        with torch.no_grad():
            head.loss(feats, samples)
    finally:
        for hook in hooks:
            hook.remove()
    if not cls_calls:
        return dict(candidates=candidates, boxes=[b for b, _ in bbox_calls])
    labels, weights = [], []
    for args, kwargs in cls_calls:
        target = args[1][0] if isinstance(args[1], tuple) else args[1]  # QFL takes (labels, scores)
        labels.append(target)
        weight = args[2] if len(args) > 2 else kwargs.get('weight')
        weights.append(torch.ones(target.shape) if weight is None else weight)
    avg = {float(kwargs['avg_factor']) for _, kwargs in cls_calls}
    assert len(avg) == 1
    n = len(samples)
    return dict(labels=_by_image(head, labels, n), weights=_by_image(head, weights, n), avg_factor=avg.pop(),
                scores=_by_image(head, [args[0] for args, _ in cls_calls], n), boxes=[b for b, _ in bbox_calls],
                bbox_avg_factor=[k.get('avg_factor') for _, k in bbox_calls])


def test_targets_follow_head_assignment(case, feats, runs):
    name, head, adapter = case
    outputs = runs(True)[1][0]
    samples = _data_samples()
    targets = adapter.targets(outputs, samples)
    seen = _run_head_loss(head, feats, samples)
    num_cls = outputs.preds['cls'][0].shape[1] // priors_per_location(head)
    flat_cls = adapter.flatten(outputs.preds['cls'], num_cls)
    assert targets.valid.shape == targets.pos.shape == flat_cls.shape[:2]
    assert targets.pos.dtype == torch.bool and targets.valid.is_floating_point()
    if 'objectness' in seen:  # YOLOX: the SimOTA foreground is where the objectness target is 1
        assert torch.equal(targets.pos, seen['objectness'] == 1)
        assert torch.equal(targets.valid, torch.ones(targets.valid.shape))
    elif 'candidates' in seen:  # AutoAssign: no hard labels; positives are the center prior's candidate set
        assert torch.equal(targets.pos, torch.stack([mask.any(dim=1) for mask in seen['candidates']]))
        assert torch.equal(targets.valid, torch.ones(targets.valid.shape))
    else:
        # flatten puts predictions where the head's loss puts them, and the targets line up with both
        if name == 'TOODHead':  # the loss takes the aligned score; 'cls' is its logit
            torch.testing.assert_close(flat_cls.sigmoid().reshape(2, -1), seen['scores'], atol=1e-6, rtol=0)
        else:
            assert torch.equal(flat_cls.reshape(2, -1), seen['scores'])
        assert torch.equal(targets.pos, (seen['labels'] >= 0) & (seen['labels'] < head.num_classes))
        assert torch.equal(targets.valid, seen['weights'].float())
        if name not in IOU_NORMALISED:
            assert targets.num_pos.ndim == 0 and float(targets.num_pos) == pytest.approx(seen['avg_factor'])
    if head.__class__.__name__ == 'FCOSHead':  # FCOS divides its box loss by the positives' summed centerness targets
        assert float(targets.centerness_sum) == pytest.approx(float(seen['bbox_avg_factor'][0]))
        assert 0 < float(targets.centerness_sum) < float(targets.num_pos)
    else:
        assert targets.centerness_sum is None
    counts = targets.pos.sum(dim=1)
    assert (counts > 0).all()
    # num_pos convention: point heads count positives; anchor heads' samplers count max(positives, 1) per image
    point_convention = name in POINT_HEADS or name in IOU_NORMALISED
    expected = max(int(counts.sum()), 1) if point_convention else int(counts.clamp(min=1).sum())
    assert targets.num_pos.ndim == 0 and float(targets.num_pos) == expected
    # positives sit on their own image's box: catches x/y swaps and image/level mix-ups in the flattening
    priors = adapter.priors(feats)
    centers = priors[:, :2] if name in POINT_HEADS else (priors[:, :2] + priors[:, 2:]) / 2
    margin = CENTER_MARGIN.get(name, 0.01)
    for image, boxes in enumerate(GT_BOXES):
        x1, y1, x2, y2 = boxes[0]
        c = centers[targets.pos[image]]
        inside = ((c[:, 0] >= x1 - margin) & (c[:, 0] <= x2 + margin)
                  & (c[:, 1] >= y1 - margin) & (c[:, 1] <= y2 + margin))
        assert inside.all(), (image, c[~inside])


def test_decode_matches_head_loss(case, feats, runs):
    """decode(flatten(reg), priors) at the positives gives the boxes the head's own loss regresses."""
    name, head, adapter = case
    outputs = runs(True)[1][0]
    samples = _data_samples()
    seen = _run_head_loss(head, feats, samples)
    # DDOD regresses the anchors of its reg assignment, which differs from the cls one `targets` gives
    pos = getattr(adapter, 'reg_targets', adapter.targets)(outputs, samples).pos
    k = reg_channels(head, outputs.preds)
    reg = adapter.flatten(outputs.preds['reg'], k)  # (N, L, K)
    if name == 'RetinaHead' and not head.reg_decoded_bbox:  # the loss takes every anchor's raw deltas
        assert torch.equal(reg.reshape(2, -1), _by_image(head, seen['boxes'], 2))
        return
    priors = adapter.priors(feats)[None].expand(2, -1, -1)
    with torch.no_grad():
        boxes = adapter.decode(reg.reshape(-1, k), priors.reshape(-1, 4)).reshape(2, -1, 4)
    if name == 'YOLOXHead':  # one call: the positives' boxes, image-major
        torch.testing.assert_close(boxes[pos], torch.cat(seen['boxes']), atol=1e-3, rtol=1e-5)
        return
    if name == 'AutoAssignHead':  # one call per image: every point's box, repeated for each of its num_gt boxes
        theirs = torch.stack([b.reshape(boxes.shape[1], -1, 4)[:, 0] for b in seen['boxes']])
        torch.testing.assert_close(boxes, theirs, atol=1e-3, rtol=1e-5)
        return
    levels = [(sl, stride) for sl, stride in zip(_levels(head), (8, 16, 32, 64, 128)) if pos[:, sl].any()]
    ours = torch.cat([boxes[:, sl][pos[:, sl]] for sl, _ in levels])  # level-major, then image, as the loss
    theirs = torch.cat(seen['boxes'])
    if name in ('GFLHead', 'TOODHead'):  # per-level loss calls, boxes in units of the level's stride
        theirs = torch.cat([b * stride for b, (_, stride) in zip(seen['boxes'], levels)])
    elif name == 'FCOSHead' and head.norm_on_bbox:  # one call, distances in strides from the point
        points = torch.cat([priors[:, sl][pos[:, sl]] for sl, _ in levels])
        xyxy, stride = points[:, [0, 1, 0, 1]], points[:, [2, 3, 2, 3]]
        theirs = xyxy + (theirs - xyxy) * stride
    assert ours.shape == theirs.shape and len(ours) == int(pos.sum())
    torch.testing.assert_close(ours, theirs, atol=1e-3, rtol=1e-5)


@pytest.mark.parametrize('training', [False, True], ids=['eval', 'train'])
def test_ddod_with_dcn(training):
    """DDOD as its configs build it, with a deformable first tower layer, on maps of at least 3x3: forward and
    cross_forward on its own features reproduce the head, and gradients reach the features through the DCN."""
    head = build_head('DDODHead', use_dcn=True)
    assert type(head.cls_convs[0].conv).__name__ == 'DeformConv2dPack'
    torch.nn.init.normal_(head.cls_convs[0].conv.conv_offset.weight, std=0.1)  # offsets start at zero: move them
    torch.nn.init.normal_(head.reg_convs[0].conv.conv_offset.weight, std=0.1)
    head.train(training)
    adapter = adapter_for(head)
    torch.manual_seed(2)
    feats = [torch.randn(2, CHANNELS, s, s) for s in (12, 6, 4, 3, 3)]  # as many levels as SIZES
    with torch.no_grad():
        ref = head.forward(feats)
        for layer in range(adapter.num_layers + 1):
            out = adapter.forward(feats, layer)
            assert_preds_equal(adapter, out.preds, ref)
            assert_preds_equal(adapter, adapter.cross_forward(out.feats, layer), ref)
    kept = {b: [f.clone().requires_grad_() for f in maps] for b, maps in adapter.forward(feats, 0).feats.items()}
    preds = adapter.cross_forward(kept, 0)
    sum(m.sum() for maps in preds.values() for m in maps).backward()
    assert all(kept[b][0].grad is not None and kept[b][0].grad.abs().sum() > 0 for b in kept)


def test_adapter_for_picks_the_registered_adapter(case):
    _, head, adapter = case
    assert type(adapter) is ADAPTERS[type(head).__name__] and adapter.head is head
    assert isinstance(adapter, HeadAdapter)


def test_adapter_for_unknown_head_names_it():
    class YOLOFHead(torch.nn.Module):
        pass

    with pytest.raises(ReproError) as err:
        adapter_for(YOLOFHead())
    message = str(err.value)
    assert 'YOLOFHead' in message and '\n' not in message
    for name in ADAPTERS:
        assert name in message


# --- TOOD: what its adapter defines beyond the generic contract ------------------------------------------------------
@pytest.fixture(scope='module', params=[{}, TOOD_TRICKS], ids=['anchor_free', 'anchor_based'])
def tood(request):
    head = build_head('TOODHead', **request.param)
    torch.manual_seed(3)
    return head, adapter_for(head), [torch.randn(2, CHANNELS, s, s) for s in SIZES]


def test_tood_layers_and_widths(tood):
    """One position past the FPN map, the whole stack's output, STACKED times a layer's width, for both branches."""
    head, adapter, feats = tood
    assert adapter.num_layers == 1 and adapter.width(0) == CHANNELS and adapter.width(1) == STACKED * CHANNELS
    out = adapter.forward(feats, 1)
    assert all(f.shape[1] == adapter.width(1) for b in ('cls', 'reg') for f in out.feats[b])
    assert all(c is r for c, r in zip(out.feats['cls'], out.feats['reg']))  # the stack is shared
    assert adapter.tower('cls') is adapter.tower('reg') is head.inter_convs


@pytest.mark.parametrize('training', [False, True], ids=['eval', 'train'])
def test_tood_predict_reproduces_the_heads_scores_and_boxes(tood, training):
    """predict on the head's own stack output: σ('cls') is the head's aligned score (1e-6) and 'reg' its resampled
    boxes in strides; cross_forward from layer 1 on the kept pre-activation stack output gives the same."""
    head, adapter, feats = tood
    head.train(training)
    with torch.no_grad():
        scores, boxes = head.forward(feats)
        kept = adapter.forward(feats, 1).feats
        cross = adapter.cross_forward(kept, 1)
        for level, x in enumerate(feats):
            stack = tower_output(adapter, 'cls', x, level)
            preds = adapter.predict(stack, stack, level)
            for got in (preds, {k: v[level] for k, v in cross.items()}):
                torch.testing.assert_close(got['cls'].sigmoid(), scores[level], atol=1e-6, rtol=0)
                torch.testing.assert_close(got['reg'], boxes[level], atol=1e-6, rtol=0)
        # the resampling moved the boxes: without it they would differ (the offsets are not zero here)
        offsets = head.reg_offset_module[-1]
        saved = offsets.weight.clone(), offsets.bias.clone()
        offsets.weight.zero_(), offsets.bias.zero_()
        unsampled = adapter.forward(feats, 1).preds['reg']
        offsets.weight.copy_(saved[0]), offsets.bias.copy_(saved[1])
        assert not all(torch.allclose(u, b) for u, b in zip(unsampled, boxes))


def test_tood_aligned_logit_is_finite_and_exact():
    """logit(sqrt(σ(a)·σ(b))) matches the direct formula where that is accurate, and stays finite when saturated."""
    from repro.distill.adapters.tood import aligned_logit
    a, b = torch.linspace(-8, 8, 33)[:, None], torch.linspace(-8, 8, 33)[None]
    torch.testing.assert_close(aligned_logit(a, b), torch.logit((a.sigmoid() * b.sigmoid()).sqrt().double()).float(),
                               atol=1e-4, rtol=1e-4)
    extreme = aligned_logit(torch.tensor([200., -200., 200.]), torch.tensor([200., -200., -200.]))
    assert torch.isfinite(extreme).all() and extreme[0] > 80 and extreme[1] < -150


@pytest.mark.parametrize('epoch', ['before', 'after'])
def test_tood_targets_follow_the_epoch(tood, epoch):
    """Before initial_epoch the ATSS assignment, after it the task-aligned one on the predictions: labels and label
    weights equal those of head.get_targets on head.forward's scores and boxes, as its loss_by_feat builds them."""
    head, adapter, feats = tood
    head.train()
    hub = MessageHub.get_current_instance()
    hub.update_info('epoch', head.initial_epoch - 1 if epoch == 'before' else head.initial_epoch)
    try:
        samples = _data_samples()
        with torch.no_grad():
            targets = adapter.targets(adapter.forward(feats, 0), samples)
            scores, boxes = head.forward(feats)
            gts = [s.gt_instances for s in samples]
            metas = [s.metainfo for s in samples]
            anchors, flags = head.get_anchors([m.shape[-2:] for m in scores], metas, device=scores[0].device)
            flat_boxes = torch.cat([adapter.flatten([b], 4) * s[0] for b, s in zip(boxes, head.prior_generator.strides)],
                                   dim=1)
            _, labels, weights, _, _ = head.get_targets(adapter.flatten(scores, NUM_CLASSES), flat_boxes, anchors,
                                                        flags, gts, metas)
            other = 'after' if epoch == 'before' else 'before'
            hub.update_info('epoch', head.initial_epoch - 1 if other == 'before' else head.initial_epoch)
            switched = adapter.targets(adapter.forward(feats, 0), samples)
    finally:
        hub.update_info('epoch', 0)
    labels, weights = torch.cat(labels, dim=1), torch.cat(weights, dim=1)
    assert torch.equal(targets.pos, (labels >= 0) & (labels < NUM_CLASSES)) and torch.equal(targets.valid, weights)
    assert targets.pos.any() and float(targets.num_pos) == int(targets.pos.sum())
    assert not torch.equal(targets.pos, switched.pos)  # the two assigners differ on this batch


def test_tood_shares_the_detection_losss_assignment(tood, monkeypatch):
    """Within shared_assignment the KD terms' targets() reuse the detection loss's get_targets call (task-aligned:
    same predictions, same answer); outside a Runner the block supplies epoch 0 and leaves the hub as it was."""
    from mmdet.models.utils import unpack_gt_instances
    head, adapter, feats = tood
    head.train()
    calls = []
    original = type(head).get_targets
    monkeypatch.setattr(type(head), 'get_targets', lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    hub = MessageHub.get_current_instance()
    samples = _data_samples()
    hub.update_info('epoch', head.initial_epoch)
    try:
        with adapter.shared_assignment():
            out = adapter.forward(feats, 0)
            gts, ignores, metas = unpack_gt_instances(samples)
            head.loss_by_feat(*adapter.loss_inputs(out.preds), gts, metas, ignores)  # as DistillDetector calls it
            adapter.targets(out, samples)
        assert len(calls) == 1 and hub.get_info('epoch') == head.initial_epoch  # a Runner's epoch is kept
        hub.runtime_info.pop('epoch')
        with adapter.shared_assignment():
            assert hub.get_info('epoch') == 0
            adapter.targets(out, samples)
        assert hub.get_info('epoch') is None
    finally:
        hub.update_info('epoch', 0)


def test_yoloxs_kd_decode_caps_a_log_size_whose_exp_overflows():
    """The full smoke's random YOLOX-L predicted log-sizes near 88: exp overflowed and the KD box loss was NaN."""
    from mmdet.models.dense_heads import YOLOXHead

    from repro.distill.adapters.yolox import LOG_SIZE_CAP, YOLOXAdapter
    adapter = YOLOXAdapter(YOLOXHead(num_classes=2, in_channels=8, feat_channels=8, strides=(8,)))
    priors = torch.tensor([[64., 32., 8., 8.]] * 2)
    reg = torch.tensor([[0.5, -1., 2., 0.], [0., 0., 90., 1.]], requires_grad=True)
    boxes = adapter.decode(reg, priors)
    w = 8 * math.exp(2.)  # a real size is decoded as YOLOXHead's own: centre (64 + 4, 32 - 8), 8 e^2 x 8
    torch.testing.assert_close(boxes[0].detach(), torch.tensor([68 - w / 2, 20., 68 + w / 2, 28.]))
    assert torch.isfinite(boxes).all() and (boxes[1, 2] - boxes[1, 0]).item() == pytest.approx(8 * math.exp(LOG_SIZE_CAP))
    (boxes[:, 2] - boxes[:, 0]).sum().backward()  # the widths
    assert reg.grad[1, 2] == 0 and reg.grad[0, 2] != 0  # no gradient through the cap
