"""Quality heatmaps (PGD Fig. 2): the quality score of a real FCOS head's adapter against a hand computation, the
heatmap's nearest-location / max-over-levels rule, and how the figure names teachers that did not run."""
import math

import numpy as np
import pytest
import torch

from repro.report.figures.quality import heatmap, location_quality, pick_teachers, prediction_quality

SIZE = 64  # FCOS strides 8..128: levels of 8x8, 4x4, 2x2, 1x1, 1x1 locations


def fcos_adapter(classes=3):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from repro.distill.adapters import adapter_for
    register_all_modules()
    head = MODELS.build(dict(type='FCOSHead', num_classes=classes, in_channels=8, feat_channels=8, stacked_convs=1, norm_cfg=None,
                             strides=[8, 16, 32, 64, 128]))
    return adapter_for(head.eval())  # eval: distances in pixels, as the figures' models predict them


def tiny_case(classes=3):
    """One image, one GT box (0, 0, 24, 16) of class 1. Every location predicts the 8x8 box around its centre
    (l = t = r = b = 4 px) with class-1 probability 3/4, except the level-0 location centred at (12, 4), which
    predicts exactly the GT box (l = 12, t = 4, r = 12, b = 12) with probability 1/2."""
    sizes = [(SIZE // s, SIZE // s) if s <= SIZE else (1, 1) for s in (8, 16, 32, 64, 128)]
    cls_maps = [torch.full((1, classes, h, w), -5.0) for h, w in sizes]
    for m in cls_maps:
        m[:, 1] = math.log(3)  # sigmoid(log 3) = 3/4
    reg_maps = [torch.full((1, 4, h, w), 4.0) for h, w in sizes]
    cls_maps[0][0, 1, 0, 1] = 0.0  # row 0, column 1 of stride 8: centre (12, 4)
    reg_maps[0][0, :, 0, 1] = torch.tensor([12.0, 4.0, 12.0, 12.0])
    return cls_maps, reg_maps, torch.tensor([[0.0, 0.0, 24.0, 16.0]]), torch.tensor([1]), sizes


def test_quality_score_matches_a_hand_computation():
    adapter = fcos_adapter()
    cls_maps, reg_maps, boxes, labels, sizes = tiny_case()
    quality = prediction_quality(adapter, cls_maps, reg_maps, boxes, labels, xi=0.8)
    assert quality.shape == (1, sum(h * w for h, w in sizes))
    # by hand: the GT has area 24·16 = 384; an 8x8 box inside it has IoU 64/384 = 1/6
    exact = 0.5 ** 0.2 * 1.0 ** 0.8                       # 0.8706: the exact box, p = 1/2
    small = 0.75 ** 0.2 * (1 / 6) ** 0.8                  # 0.9441 · 0.2385 = 0.2252: an 8x8 box, p = 3/4
    # centres strictly inside (0, 0, 24, 16): stride 8 at x in {4, 12, 20}, y in {4, 12}; stride 16 at (8, 8);
    # stride 32's (16, 16) lies on the border (excluded), coarser levels' centres are outside
    expected = torch.zeros_like(quality)
    for row, col in [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2)]:
        expected[0, row * 8 + col] = small
    expected[0, 1] = exact
    expected[0, 64] = small                                # stride 16, row 0, column 0: centre (8, 8)
    assert torch.allclose(quality, expected, atol=1e-6), (quality.nonzero(), quality[quality > 0])
    assert float(quality[0, 1]) == pytest.approx(0.870551, abs=1e-6)
    assert float(quality[0, 0]) == pytest.approx(0.225160, abs=1e-6)


def test_quality_weights_classification_and_localisation_by_xi():
    """ξ = 0: the class probability alone; ξ = 1: the IoU alone."""
    adapter = fcos_adapter()
    cls_maps, reg_maps, boxes, labels, _ = tiny_case()
    p_only = prediction_quality(adapter, cls_maps, reg_maps, boxes, labels, xi=0.0)
    iou_only = prediction_quality(adapter, cls_maps, reg_maps, boxes, labels, xi=1.0)
    assert float(p_only[0, 1]) == pytest.approx(0.5) and float(p_only[0, 0]) == pytest.approx(0.75)
    assert float(iou_only[0, 1]) == pytest.approx(1.0) and float(iou_only[0, 0]) == pytest.approx(1 / 6)


def test_heatmap_takes_the_nearest_location_and_the_max_over_levels():
    from repro.distill.guides.prediction_guided import centres_of
    adapter = fcos_adapter()
    cls_maps, reg_maps, boxes, labels, sizes = tiny_case()
    quality = prediction_quality(adapter, cls_maps, reg_maps, boxes, labels, xi=0.8)
    values = location_quality(quality, anchors=1)
    assert torch.equal(values, quality[0])  # one GT, one prediction per location
    centres = centres_of(adapter.priors(reg_maps), adapter)
    heat = heatmap(values, centres, sizes, (SIZE, SIZE))
    assert heat.shape == (SIZE, SIZE)
    # pixels 8..15 in x, 0..7 in y are nearest to the (12, 4) location of stride 8
    assert np.allclose(heat[0:8, 8:16], 0.870551, atol=1e-6)
    # pixels 0..7 x 8..15 (y, x): stride 8's (12, 12) location (0.2252) and stride 16's (8, 8) (0.2252)
    assert np.allclose(heat[8:16, 8:16], 0.225160, atol=1e-6)
    # right of x = 24 and below y = 16 no location lies inside the box on any level
    assert heat[24:, :].max() == 0.0 and heat[:, 32:].max() == 0.0
    # (y, x) in 0..15 x 16..23: nearest to stride 8's (20, 4) and (20, 12)
    assert np.allclose(heat[0:16, 16:24], 0.225160, atol=1e-6)


def test_location_quality_is_the_max_over_gts_and_anchors():
    quality = torch.tensor([[0.1, 0.4, 0.0, 0.2],   # GT 0 over 2 locations x 2 anchors
                            [0.3, 0.0, 0.9, 0.0]])  # GT 1
    assert torch.equal(location_quality(quality, anchors=2), torch.tensor([0.4, 0.9]))
    assert torch.equal(location_quality(quality[:0], anchors=2), torch.zeros(2))  # no GT: all zero


def test_teachers_that_did_not_run_are_named_not_drawn(tmp_path):
    """A table with FCOS and ATSS teacher rows and no records: no column, and the reasons name the runs."""
    import yaml

    from conftest import FAST
    from repro.errors import ReproError
    from repro.plan.dag import plan
    from repro.report.figures import make_figures
    from repro.tables.spec import load_spec
    rows = [dict(id=f'{d}_t', label='T', role='teacher', run=dict(config=f'configs/detectors/{d}_r50.py',
                                                                 overrides=FAST), published=dict(AP=40.0))
            for d in ('fcos', 'atss')]
    path = tmp_path / 'pgd_table96.yaml'
    path.write_text(yaml.safe_dump(dict(version=1, paper='pgd', number='96', title='t', description='d',
                                        metrics=['AP'], rows=rows)))
    spec = load_spec(path)
    runs = plan(spec, 'tiny')
    done, missing = pick_teachers(runs)
    assert done == {}
    assert missing['FCOS'] == f'teacher run {runs[0].key} is pending'
    assert missing['ATSS'] == f'teacher run {runs[1].key} is pending'
    assert missing['GFL'] == missing['DDOD'] == missing['AutoAssign'] == 'no teacher run in this table'
    figures, notes = make_figures(spec, runs, 'tiny', tmp_path / 'out', ['quality_heatmaps', 'masking_curve'])
    assert figures == []
    assert notes[0].startswith('quality_heatmaps: not drawn: no finished teacher run')
    assert f'FCOS: teacher run {runs[0].key} is pending' in notes[0] and 'masking_curve' in notes[1]
    assert not (tmp_path / 'out').exists()
    with pytest.raises(ReproError, match='no finished teacher run'):
        from repro.report.figures.quality import quality_figure
        quality_figure(spec, runs, 'tiny', tmp_path / 'out')
