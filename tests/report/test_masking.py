"""Masking curve (PGD Fig. 3): which predictions are masked, that masking silences exactly those through a real
head's own post-processing, and (slow, a real tiny teacher) that X = 0 reproduces the run's recorded metrics."""
import pytest
import torch

from repro.report.figures.masking import PERCENTS, mask_logits, masked_predictions

CLASSES = 3


def test_each_gt_loses_the_ceil_of_x_percent_of_its_inside_predictions():
    quality = torch.tensor([
        [0.9, 0.1, 0.8, 0.3, 0.2, 0.0, 0.5, 0.4, 0.6, 0.7, 0.0, 0.0],  # GT 0: predictions 0..9 inside
        [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.35, 0.3, 0.95]])  # GT 1: 9, 10, 11 and 8 inside
    inside = torch.zeros_like(quality, dtype=torch.bool)
    inside[0, :10] = True
    inside[1, 8:] = True
    quality[1, 0] = 0.99  # not inside GT 1's box: never a candidate of GT 1, whatever its value

    def chosen(percent):
        return masked_predictions(quality, inside, percent).nonzero().flatten().tolist()

    assert chosen(0.0) == []
    assert chosen(0.5) == [0, 11]         # ceil(0.05) = ceil(0.02) = 1: each GT's best
    assert chosen(20.0) == [0, 2, 11]     # GT 0: ceil(2.0) = 2 (0.9, 0.8); GT 1: ceil(0.8) = 1 (0.95)
    assert chosen(50.0) == [0, 2, 6, 8, 9, 11]  # GT 0's 5 best: 0 2 9 8 6; GT 1's ceil(2.0) = 2 best: 11 9


def test_fifty_percent_by_hand():
    quality = torch.tensor([[0.9, 0.1, 0.8, 0.3, 0.2, 0.0, 0.5, 0.4, 0.6, 0.7]])
    inside = torch.ones_like(quality, dtype=torch.bool)
    assert masked_predictions(quality, inside, 50.0).nonzero().flatten().tolist() == [0, 2, 6, 8, 9]
    assert masked_predictions(quality, inside, 10.0).nonzero().flatten().tolist() == [0]
    assert masked_predictions(quality, inside, 11.0).nonzero().flatten().tolist() == [0, 2]  # ceil(1.1) = 2
    assert not masked_predictions(quality[:0], inside[:0], 20.0).any()  # an image without GT: nothing masked


def retina_head():
    """A real head with 9 anchors per location, so the (anchor, class) channel layout is exercised."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict
    register_all_modules()
    head = MODELS.build(ConfigDict(
        type='RetinaHead', num_classes=CLASSES, in_channels=8, feat_channels=8, stacked_convs=1,
        anchor_generator=dict(type='AnchorGenerator', octave_base_scale=4, scales_per_octave=3,
                              ratios=[0.5, 1.0, 2.0], strides=[8, 16]),
        bbox_coder=dict(type='DeltaXYWHBBoxCoder', target_means=[0.0] * 4, target_stds=[1.0] * 4),
        test_cfg=dict(nms_pre=100000, score_thr=0.0, nms=dict(type='nms', iou_threshold=0.5), max_per_img=100000)))
    return head.eval()


def test_masked_logits_silence_exactly_the_masked_predictions():
    head = retina_head()
    torch.manual_seed(0)
    sizes = [(4, 4), (2, 2)]  # 16 + 4 locations, 9 anchors each: 180 predictions
    cls_maps = [torch.randn(2, 9 * CLASSES, h, w) for h, w in sizes]
    reg_maps = [torch.randn(2, 9 * 4, h, w) * 0.1 for h, w in sizes]
    total = 9 * sum(h * w for h, w in sizes)
    masked = [torch.zeros(total, dtype=torch.bool) for _ in range(2)]
    masked[0][[0, 5, 17, 150, 179]] = True  # level 0 and level 1 predictions of image 0
    masked[1][[3]] = True
    out = mask_logits(cls_maps, masked, CLASSES)

    def flat(maps):  # (N, L·A, C) in mmdet's order, as repro.distill.adapters.HeadAdapter.flatten
        return torch.cat([m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, CLASSES) for m in maps], dim=1)

    before, after = flat(cls_maps), flat(out)
    for i in range(2):
        assert torch.isneginf(after[i][masked[i]]).all()
        assert torch.equal(after[i][~masked[i]], before[i][~masked[i]])
    assert not any(torch.isneginf(m).any() for m in cls_maps)  # the head's own outputs are left alone

    metas = [dict(img_shape=(999, 999), ori_shape=(999, 999), scale_factor=(1.0, 1.0))] * 2
    kept = head.predict_by_feat(out, reg_maps, batch_img_metas=metas, with_nms=False)
    full = head.predict_by_feat(cls_maps, reg_maps, batch_img_metas=metas, with_nms=False)
    for i in range(2):
        assert len(full[i]) == total * CLASSES  # every (prediction, class) has a score > 0 without masking
        assert len(kept[i]) == (total - int(masked[i].sum())) * CLASSES
        # the boxes that went are those of the masked predictions: decode them directly and compare
        gone = {tuple(b) for b in full[i].bboxes.round(decimals=4).tolist()} - \
            {tuple(b) for b in kept[i].bboxes.round(decimals=4).tolist()}
        priors = torch.cat(head.prior_generator.grid_priors(sizes, device='cpu'))
        deltas = torch.cat([m[i].permute(1, 2, 0).reshape(-1, 4) for m in reg_maps])
        boxes = head.bbox_coder.decode(priors[masked[i]], deltas[masked[i]], max_shape=(999, 999))  # no clipping: boxes stay distinct
        assert gone == {tuple(b) for b in boxes.round(decimals=4).tolist()}


@pytest.mark.slow
def test_x_zero_reproduces_the_recorded_metrics_of_a_real_teacher(tmp_path):
    """A tiny GFL teacher trained for real (the report fixture's teacher run): its curve at X = 0 is its record's
    numbers, evaluated by pycocotools through the run's own CocoMetric; masking its best predictions costs AP50."""
    from report_store import TEACHER
    from repro.plan.dag import plan
    from repro.report.figures.checkpoints import weights_of
    from repro.report.figures.masking import cached_curve
    from repro.runs.store import read_record
    from repro.runs.lifecycle import train
    from figure_runs import one_row_spec
    spec = one_row_spec(tmp_path, 'teacher', 'configs/detectors/gfl_r50.py', TEACHER)
    (run,) = plan(spec, 'tiny')
    train(run.config, list(run.overrides), 'tiny', seed=0, work_dir=run.work_dir, rows=run.rows, role='teacher',
          wandb='disabled', wait=True)
    recorded = read_record(run.work_dir)['metrics']
    assert recorded['AP50'] > 0, recorded  # a curve of zeros would prove nothing
    curve = cached_curve(run, weights_of(run), tmp_path / 'figures')
    assert list(curve) == [str(x) for x in PERCENTS]
    assert curve['0.0'] == recorded
    assert curve['20.0']['AP50'] < curve['0.0']['AP50']
    cache = tmp_path / 'figures' / f'masking-{run.key}.json'
    assert cache.is_file()
    mtime = cache.stat().st_mtime_ns
    assert cached_curve(run, weights_of(run), tmp_path / 'figures') == curve and cache.stat().st_mtime_ns == mtime


@pytest.mark.slow  # a fresh interpreter that imports mmdet and compiles a config
def test_a_figure_builds_the_evaluator_its_configs_custom_imports_register():
    """The figures evaluate with the run's own val metric; CrowdHuman's is repro's CrowdDetMetric, which its
    config's custom_imports register (the Runner imports them; a report process had not: KeyError). In a fresh
    interpreter, where nothing has imported repro.evaluation yet."""
    import subprocess
    import sys
    from conftest import REPO
    code = ('import sys; from repro.plan.compile import compile_config; '
            'from repro.report.figures.checkpoints import val_evaluator; '
            "c = compile_config('configs/detectors/ddod_r50_crowdhuman.py', 'tiny', check_data=False); "
            "assert 'repro.evaluation' not in sys.modules; "
            "print(type(val_evaluator(c.cfg, {}).metrics[0]).__name__)")
    done = subprocess.run([sys.executable, '-c', code], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == 'CrowdDetMetric'
