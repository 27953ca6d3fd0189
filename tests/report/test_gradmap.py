"""Gradient maps: ∂L_KD/∂F from the real KD terms through autograd equals a finite-difference estimate, for
CrossKD and for PKD, at a tower layer and at the FPN (layer 0); a tiny random distiller in float64."""
import numpy as np
import pytest

from repro.errors import ReproError
import torch
from mmengine.structures import InstanceData

from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR
from repro.report.figures.gradmap import FeatureTap, feature_gradients, inside_share, kd_loss, magnitude, pkd_model_cfg

SMALL = ['model.backbone.depth=18', '+teacher.overrides=["model.backbone.depth=18"]']
SIZE = 192  # P7 (stride 128) is 2x2: a 1x1 map of one image has no per-channel std to standardise with


def tiny_model(method: str, layer: int):
    from repro.report.figures.gradmap import build_model
    cfg = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'tiny', SMALL + [f'distill.layer={layer}']).cfg
    model_cfg = cfg.model.to_dict()
    model_cfg.pop('teacher_checkpoint')  # a random teacher: the check is about the gradient, not the weights
    if method == 'pkd':
        model_cfg = pkd_model_cfg(model_cfg)
    torch.manual_seed(0)
    model = build_model(model_cfg).double()
    # predictors far from their init (weights of std 0.01 around a shared bias): otherwise the student's and the
    # teacher's scores nearly coincide, and QFL-KD's |σ(p) − σ(t)| puts kinks inside the difference step
    for head in (model.bbox_head, model.teacher.bbox_head):
        for conv in (head.gfl_cls, head.gfl_reg):
            torch.nn.init.normal_(conv.weight, std=0.3)
    return model


def one_image():
    from mmdet.structures import DetDataSample
    sample = DetDataSample()
    sample.set_metainfo(dict(img_shape=(SIZE, SIZE), pad_shape=(SIZE, SIZE), batch_input_shape=(SIZE, SIZE),
                             ori_shape=(SIZE, SIZE), scale_factor=(1.0, 1.0)))
    sample.gt_instances = InstanceData(bboxes=torch.tensor([[20., 40., 100., 160.], [80., 60., 180., 140.]]),
                                       labels=torch.tensor([1, 3]))
    torch.manual_seed(1)
    return (torch.rand(1, 3, SIZE, SIZE, dtype=torch.float64) * 2 - 1), [sample]


def loss_with_offset(model, inputs, samples, key, level, offset):
    with torch.no_grad(), FeatureTap(model, {(key, level): offset}):
        return float(kd_loss(model, inputs, samples))


@pytest.mark.parametrize('method,layer', [('crosskd', 3), ('pkd', 3), ('crosskd', 0)])
def test_feature_gradient_matches_finite_differences(method, layer):
    """Central differences of L_KD along two unit directions of each level's feature: the gradient's own (the
    derivative is |g|) and a random one (<g, d>). GFL's box logits are cast to float32 (as mmdet's head does), so
    the CrossKD reg path carries float32 rounding: eps 1e-3 and a tolerance of 1% of |g| cover it (the largest
    error seen is 0.7%); a gradient off by a factor, or taken at the wrong tensor, is far outside."""
    model = tiny_model(method, layer)
    inputs, samples = one_image()
    loss, grads = feature_gradients(model, inputs, samples)
    assert set(grads) == ({'fpn'} if layer == 0 else {'cls', 'reg'})
    assert all(len(levels) == 5 for levels in grads.values())
    assert float(loss) == pytest.approx(float(kd_loss(model, inputs, samples)), rel=1e-12)  # taps change nothing
    eps, generator = 1e-3, torch.Generator().manual_seed(2)
    for key, levels in grads.items():
        for level in (0, 3):  # P6 also feeds P7 inside the FPN: layer 0 must not count that path
            g = levels[level]
            norm = float(g.norm())
            assert norm > 0, (key, level, 'no KD gradient reaches this feature')
            random = torch.randn(g.shape, generator=generator, dtype=torch.float64)
            for d in (g / norm, random / random.norm()):
                plus = loss_with_offset(model, inputs, samples, key, level, eps * d)
                minus = loss_with_offset(model, inputs, samples, key, level, -eps * d)
                estimate = (plus - minus) / (2 * eps)
                assert abs(float((g * d).sum()) - estimate) <= 1e-2 * norm, (key, level, estimate, norm)


def test_magnitude_sums_channels_levels_and_branches_at_image_size():
    g = {'cls': [torch.ones(1, 3, 4, 4), torch.zeros(1, 3, 2, 2)], 'reg': [-torch.ones(1, 3, 4, 4)]}
    heat = magnitude(g, (8, 8))
    assert heat.shape == (8, 8) and np.allclose(heat, 6.0)  # |1| * 3 channels + |-1| * 3, bilinear of a constant


def test_inside_share_is_the_mass_inside_the_boxes():
    heat = np.zeros((10, 10))
    heat[2:4, 2:4] = 1.0  # 4 inside the box below
    heat[8, 8] = 4.0  # 4 outside
    assert inside_share(heat, np.array([[2, 2, 4, 4]])) == pytest.approx(0.5)
    assert inside_share(np.zeros((4, 4)), np.array([[0, 0, 2, 2]])) == 0.0


def distill_build(method):
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'distill'))
    from test_detector import build
    return build(method)[0]


def test_a_head_with_a_tower_per_level_is_tapped_at_every_level():
    """RTMDet's SepBN head runs each FPN level through its own tower modules: each level's feature is tapped, and
    the gradient at one of them matches a central difference (float32: mmdet's RTMDet assigner refuses float64;
    random teacher)."""
    model = distill_build('crosskd_rtmdet.py')
    torch.manual_seed(0)
    for head in (model.bbox_head, model.teacher.bbox_head):  # far from their init, as in tiny_model
        for conv in [*head.rtm_cls, *head.rtm_reg]:
            torch.nn.init.normal_(conv.weight, std=0.3)
    inputs, samples = one_image()
    inputs = inputs.float()
    loss, grads = feature_gradients(model, inputs, samples)
    assert {k: len(v) for k, v in grads.items()} == {'cls': 3, 'reg': 3}
    g = grads['cls'][1]
    norm = float(g.norm())
    assert norm > 0
    eps = 1e-1  # float32 rounding dominates below 1e-2; at 0.1 the estimate is within 0.1% here
    plus = loss_with_offset(model, inputs, samples, 'cls', 1, eps * g / norm)
    minus = loss_with_offset(model, inputs, samples, 'cls', 1, -eps * g / norm)
    assert (plus - minus) / (2 * eps) == pytest.approx(norm, rel=1e-2)


def test_a_head_with_one_shared_stack_is_refused_in_one_line():
    """TOOD's layer-1 feature is its whole shared stack's output, not one layer of two towers: no silent figure."""

    from repro.errors import ReproError
    with pytest.raises(ReproError, match=r'^gradient maps tap one layer of two towers; TOODHead has one shared stack'):
        FeatureTap(distill_build('crosskd_tood.py'))


def test_the_crosskd_panel_takes_the_crosskd_terms_only_and_prefers_crosskd_alone(tmp_path):
    """CrossKD + PKD adds a neck term: its gradient must not enter the CrossKD panel; CrossKD alone is drawn first."""
    from types import SimpleNamespace

    from repro.report.figures import gradmap
    from repro.runs.store import WEIGHTS_FILE, write_record
    combined = compile_config(CONFIG_DIR / 'methods/crosskd_pkd_gfl.py', 'tiny', []).cfg.model.to_dict()
    assert set(combined['distill']['terms']) == {'cls', 'reg', 'neck'}
    assert set(gradmap.crosskd_model_cfg(combined)['distill']['terms']) == {'cls', 'reg'}

    def run(config, key, seed, weights=True):
        work_dir = tmp_path / key
        work_dir.mkdir()
        write_record(work_dir, {'run_key': key, 'status': 'done'})
        if weights:
            (work_dir / WEIGHTS_FILE).write_bytes(b'w')
        return SimpleNamespace(key=key, seed=seed, role='distilled', work_dir=work_dir, status=lambda: 'done',
                               compiled=compile_config(CONFIG_DIR / config, 'tiny', []))
    both = run('methods/crosskd_pkd_gfl.py', 'both', 0)
    alone = run('methods/crosskd_gfl.py', 'alone', 1)
    assert gradmap.pick_runs([both, alone]) == (alone, alone)  # a later seed of CrossKD alone before CrossKD + PKD
    assert gradmap.pick_runs([both]) == (both, both)
    kept = run('methods/crosskd_gfl.py', 'kept', 0, weights=False)  # put back from a kept record
    with pytest.raises(ReproError, match='run kept, picked for the gradient maps, is a kept record without weights'):
        gradmap.pick_runs([both, alone, kept])  # not silently another run: the report keeps its earlier figure
