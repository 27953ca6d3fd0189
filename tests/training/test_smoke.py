"""The real-size path (repro/training/smoke.py, repro/data/real_size.py): generated COCO and CrowdHuman roots at real image
sizes, stand-in weights with the real files' names and keys, and one line for every missing weight file. The smoke's
CI subset runs in tests/training/test_gpu_check.py, inside the GPU check's reduced mode."""
import json
import re

import pytest
import torch

from repro.training import smoke
from repro.data.real_size import SIZES, write_coco_root, write_crowdhuman_root
from repro.errors import ReproError
from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR


@pytest.fixture(scope='module')
def coco_root(tmp_path_factory):
    return write_coco_root(tmp_path_factory.mktemp('coco'), num_train=2, num_val=1)


def test_the_generated_roots_have_real_sizes_and_the_datasets_categories(coco_root, tmp_path):
    from mmdet.datasets import CocoDataset
    train = json.loads((coco_root / 'annotations/instances_train2017.json').read_text())
    assert [c['name'] for c in train['categories']] == list(CocoDataset.METAINFO['classes'])
    assert [(i['width'], i['height']) for i in train['images']] == list(SIZES[:2])
    sizes = {i['id']: (i['width'], i['height']) for i in train['images']}
    for ann in train['annotations']:
        x, y, w, h = ann['bbox']
        width, height = sizes[ann['image_id']]
        assert 0 <= x and 0 <= y and w > 0 and h > 0 and x + w <= width + 0.1 and y + h <= height + 0.1
    assert (coco_root / 'train2017' / train['images'][0]['file_name']).is_file()
    crowd = write_crowdhuman_root(tmp_path / 'crowd', num_train=1, num_val=1)
    val = json.loads((crowd / 'annotations/crowdhuman_val.json').read_text())
    assert val['categories'] == [{'id': 1, 'name': 'person', 'supercategory': 'person'}]
    assert (crowd / 'Images' / val['images'][0]['file_name']).is_file()


def test_the_table_says_each_rows_threads_and_load_and_a_failures_reason():
    rows = [{'config': 'configs/detectors/gfl_r50.py', 'status': 'ok', 'iterations': 2, 's_per_iter': 31.9, 'threads': 1, 'load': 2.1,
             'peak_rss_gib': 4.8, 'params_m': {'student': 32.3}},
            {'config': 'configs/methods/ld_gfl.py', 'status': 'failed', 'reason': 'a | b', 'threads': 2}]
    lines = smoke.table(rows).splitlines()
    cells = [len(re.split(r'(?<!\\)\|', line)) for line in lines]  # an escaped pipe is no column
    assert len(set(cells)) == 1
    assert '| `detectors/gfl_r50` | ok | 2 | 31.9 | 1 / 2.1 | 4.8 | – | 32.3 | – |' == lines[2]
    assert lines[3].startswith('| `methods/ld_gfl` | failed: a \\| b | – | – | 2 / – |')


def test_configs_are_picked_by_name_or_kind():
    assert [p.relative_to(CONFIG_DIR).as_posix() for p in smoke.pick(['gfl_r50'])] == [
        'detectors/gfl_r50.py', 'teachers/gfl_r50.py']
    assert smoke.pick(['configs/methods/crosskd_gfl.py']) == [CONFIG_DIR / 'methods/crosskd_gfl.py']
    assert len(smoke.pick([])) == len(smoke.all_configs()) > 90
    with pytest.raises(ReproError, match=r'^no config named gfl_r9 under configs/\{detectors,teachers,methods\}/$'):
        smoke.pick(['gfl_r9'])


def test_stand_ins_carry_the_real_names_and_the_loading_modules_keys(coco_root, tmp_path, monkeypatch):
    from mmdet.models.backbones import ResNet

    from repro.distill.teacher import load_teacher
    monkeypatch.setenv('REPRO_WEIGHTS', str(tmp_path))
    compiled = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'coco', data_root=str(coco_root))
    written = smoke.make_standins(compiled, tmp_path)
    assert written == ['resnet50-0676ba61.pth', compiled.teacher_checkpoint.rsplit('/', 1)[1]]
    backbone = torch.load(tmp_path / written[0], weights_only=True)
    assert backbone.keys() == ResNet(depth=50).state_dict().keys()  # a bare state dict, as torchvision's
    load_teacher(smoke._build(compiled.teacher.cfg.model), compiled.teacher_checkpoint)  # strict keys and shapes
    assert smoke.make_standins(compiled, tmp_path) == []  # there already


def test_a_classifier_checkpoints_stand_in_holds_the_backbone_under_its_init_cfgs_prefix(coco_root, tmp_path):
    from mmengine.runner.checkpoint import _load_checkpoint_with_prefix
    compiled = compile_config(CONFIG_DIR / 'detectors/rtmdet_s.py', 'coco', data_root=str(coco_root))
    init = compiled.cfg.model.backbone.init_cfg
    assert init.prefix == 'backbone.'  # mmdet's RTMDet loads CSPNeXt from an ImageNet classifier's checkpoint
    written = smoke.make_standins(compiled, tmp_path)
    assert written == [init.checkpoint.rsplit('/', 1)[1]]
    state = torch.load(tmp_path / written[0], weights_only=True)
    backbone = smoke._build(compiled.cfg.model.backbone).state_dict()
    assert state.keys() == {f'backbone.{k}' for k in backbone}
    assert _load_checkpoint_with_prefix('backbone.', str(tmp_path / written[0])).keys() == backbone.keys()


@pytest.mark.parametrize('config, first_metric', [('detectors/ddod_r50_crowdhuman.py', 'crowd/AP'),
                                                  ('detectors/gfl_r50.py', 'coco/bbox_mAP')])
def test_the_coco_profile_keeps_the_best_checkpoint_by_a_greater_first_metric(tmp_path, config, first_metric):
    """The full smoke found a CrowdHuman run failing after its first evaluation: mmengine cannot tell from the
    name `crowd/AP` whether greater is better."""
    from mmengine.hooks import CheckpointHook
    compiled = compile_config(CONFIG_DIR / config, 'coco', data_root=str(tmp_path), check_data=False)
    hook = CheckpointHook(**{k: v for k, v in compiled.cfg.default_hooks.checkpoint.items() if k != 'type'})
    hook._init_rule(hook.rules, [first_metric])  # what its after_val_epoch does with save_best='auto'
    assert hook.is_better_than[first_metric](2.0, 1.0) and hook.max_keep_ckpts == 1


@pytest.fixture
def refused(capsys, tmp_path, monkeypatch):
    """`python -m repro.train ARGS` in this process, which must stop with one `error:` line (exit status 2)."""
    import repro.train
    from repro.cli import run_cli
    monkeypatch.setenv('REPRO_WEIGHTS', str(tmp_path / 'weights'))

    def refuse(*argv) -> str:
        with pytest.raises(SystemExit) as exit_:
            run_cli(lambda: repro.train.main([*argv, '--wandb', 'disabled']))
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and 'Traceback' not in err, err
        lines = [ln for ln in err.splitlines() if ln.startswith('error:')]
        assert len(lines) == 1, err
        return lines[0]
    return refuse


@pytest.mark.slow
@pytest.mark.parametrize('config, what, url', [
    ('detectors/gfl_r50.py', 'pretrained', 'https://download.pytorch.org/models/resnet50-0676ba61.pth'),
    ('methods/crosskd_gfl.py', 'teacher', 'https://download.openmmlab.com/mmdetection/v2.0/gfl/'
     'gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth'),
    ('methods/ld_gfl.py', 'teacher', 'https://download.openmmlab.com/mmdetection/v2.0/gfl/'
     'gfl_r101_fpn_mstrain_2x_coco/gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth')])
def test_a_missing_weight_file_is_one_line(refused, coco_root, tmp_path, config, what, url):
    """A backbone's ImageNet weights, a zoo teacher and LD's teacher, none in the weights folder, offline: one line
    naming the file, its URL and how to provide it, never a traceback or a random initialisation."""
    name = url.rsplit('/', 1)[1]
    line = refused(str(CONFIG_DIR / config), '--profile', 'coco', '--data-root', str(coco_root))
    assert line.startswith(f"error: {what} weights {name} are not in {tmp_path / 'weights'} and $REPRO_OFFLINE "
                           f'forbids downloading them from {url}; download the file into'), line


@pytest.mark.slow(minutes=5)  # measured in CI on 2 cores (tests/conftest.py orders by it)
def test_torchrun_runs_a_real_size_distilled_config_on_two_cpu_processes(tmp_path, monkeypatch):
    """torchrun --nproc_per_node 2 (gloo) of CrossKD R50 -> R18 at 1333x800 with stand-in weights, 1 iteration of 2
    images a process: one record, with the effective batch of both processes and the LR scaled to it, and one W&B
    run (offline), not one per process."""
    import os
    import subprocess

    from conftest import PYTHON, REPO
    data = smoke.roots(tmp_path, iterations=1)
    weights = tmp_path / 'weights'
    monkeypatch.setenv('REPRO_WEIGHTS', str(weights))
    config = CONFIG_DIR / 'methods/crosskd_retinanet_r18.py'
    smoke.make_standins(compile_config(config, 'coco', data_root=str(data[None])), weights)
    work_dir = tmp_path / 'run'
    env = {**os.environ, 'REPRO_WORK_DIRS': str(tmp_path / 'store'), 'CUDA_VISIBLE_DEVICES': '', 'WANDB_SILENT': 'true'}
    done = subprocess.run([PYTHON, '-m', 'torch.distributed.run', '--nproc_per_node=2', '--master_port=29531',
                           '-m', 'repro.train', str(config), '--launcher', 'pytorch', '--profile', 'coco',
                           '--data-root', str(data[None]), '--work-dir', str(work_dir), '--wandb', 'offline',
                           'train_cfg.max_epochs=1'], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    record = json.loads((work_dir / 'result.json').read_text())
    assert record['status'] == 'done' and record['effective_batch'] == 4
    assert record['lr'] == pytest.approx(0.01 * 4 / 16) and 'AP' in record['metrics']
    assert len(list(work_dir.rglob('offline-run-*'))) == 1


def test_a_partial_smokes_results_section_says_how_many_configs_have_not_run(tmp_path):
    row = {'config': 'configs/detectors/gfl_r50.py', 'status': 'ok', 'threads': 2}
    summary = {'rows': [row], 'iterations': 2, 'device': 'CPU (2 cores)', 'wall_min': 2.5, 'date': '2026-12-03',
               'commit': 'abc1234', 'command': 'python -m repro.smoke'}
    path = tmp_path / 'RESULTS.md'
    path.write_text('# Results\n\n## Later\n')
    smoke.write_results_md(summary, path)
    total = len(smoke.all_configs())
    text = path.read_text()
    assert '1 of 1 configs ran one epoch of the generated root (2 training iterations at batch 2' in text
    assert f'{total - 1} of the {total} configs under configs/ have not run yet.' in text
    assert text.index(smoke.SECTION) > text.index('## Later')  # appended once, then replaced in place
    rows = [{**row, 'config': str(p.relative_to(smoke.REPO_ROOT))} for p in smoke.all_configs()]
    smoke.write_results_md({**summary, 'rows': rows}, path)
    assert 'have not run yet' not in path.read_text() and path.read_text().count(smoke.SECTION) == 1


def test_a_stand_in_teachers_batch_norms_hold_statistics_so_that_its_boxes_stay_finite(tmp_path):
    """The full smoke found CrossKD YOLOX's KD loss NaN at the first iteration: YOLOX-L takes 0-255 pixels
    unnormalised, and a random teacher's default batch-norm statistics (mean 0, variance 1) let its eval-mode
    log-widths reach 10^6, whose exp overflows."""
    from repro.distill.teacher import load_teacher
    compiled = compile_config(CONFIG_DIR / 'methods/crosskd_yolox.py', 'coco', data_root=str(tmp_path),
                              check_data=False)
    written = smoke.make_standins(compiled, tmp_path)
    teacher = smoke._build(compiled.teacher.cfg.model)
    load_teacher(teacher, str(tmp_path / written[-1]))
    teacher.eval()
    pixels = torch.rand(3, 640, 640, generator=torch.Generator().manual_seed(1)) * 255  # YOLOX's input size
    with torch.no_grad():
        _, reg, _ = teacher(teacher.data_preprocessor({'inputs': [pixels]}, False)['inputs'], mode='tensor')
    assert max(level[:, 2:].abs().max().item() for level in reg) < 20  # 10^6 before; exp(20) strides: finite


def test_stand_ins_are_calibrated_on_the_runs_own_images(coco_root, tmp_path):
    """The full smoke found PGD-YOLOX's feature loss at 1e7 in its first iteration, and the student diverged: a
    teacher calibrated on noise gave head features 6-20x larger on the generated images than on noise. Calibrated
    on the run's train images, its features on them are of unit scale or less."""
    from repro.distill.teacher import load_teacher
    compiled = compile_config(CONFIG_DIR / 'methods/pgd_yolox.py', 'coco', data_root=str(coco_root),
                              check_data=False)
    images = smoke.calibration_images(coco_root)
    assert [p.name for p in images] == ['train_000000.jpg', 'train_000001.jpg']
    scale = {}
    for how, given in (('noise', []), ('images', images)):
        written = smoke.make_standins(compiled, tmp_path / how, given)
        teacher = smoke._build(compiled.teacher.cfg.model)
        load_teacher(teacher, str(tmp_path / how / written[-1]))
        teacher.eval()
        with torch.no_grad():
            inputs = teacher.data_preprocessor({'inputs': [smoke._pixels(p, 640) for p in images]}, False)['inputs']
            tower = teacher.bbox_head.multi_level_cls_convs[0][0](teacher.extract_feat(inputs)[0])
        scale[how] = tower.abs().mean().item()
    assert scale['images'] < 1 < 5 < scale['noise']


@pytest.mark.parametrize('config', ['methods/head_retinanet_r18_faster_r50.py',
                                    'methods/head_retinanet_r18_retina_r50.py'])
def test_stand_ins_for_a_two_stage_teacher_load_strictly(tmp_path, config):
    """The full smoke died on HEAD's Faster R-CNN teacher: built from a plain dict, TwoStageDetector read
    `train_cfg.rpn` off it, and its tensor mode (the batch-norm calibration) needs image metas."""
    from repro.distill.teacher import load_teacher
    compiled = compile_config(CONFIG_DIR / config, 'coco', data_root=str(tmp_path), check_data=False)
    written = smoke.make_standins(compiled, tmp_path)
    assert written[-1] == compiled.teacher_checkpoint.rsplit('/', 1)[1]
    load_teacher(smoke._build(compiled.teacher.cfg.model), str(tmp_path / written[-1]))  # strict keys and shapes


def test_a_config_whose_models_cannot_be_built_fails_its_row_alone(coco_root, tmp_path, monkeypatch):
    def broken(compiled, folder, images=()):
        raise AttributeError("'dict' object has no attribute 'rpn'\nmore")
    monkeypatch.setattr(smoke, 'make_standins', broken)
    row = smoke.smoke_one(CONFIG_DIR / 'detectors/retinanet_r18.py', tmp_path, {None: coco_root}, threads=1)
    assert row['status'] == 'failed'
    assert row['reason'] == "before training: AttributeError: 'dict' object has no attribute 'rpn'"


def test_the_student_parameter_count_of_mmdets_ld_detector_is_its_plain_gfls(tmp_path):
    """The full smoke failed LD's row: mmdet's KD detector cannot be built without its teacher_config."""
    from repro.training.export import plain_model
    counts = [smoke._params(plain_model(compile_config(CONFIG_DIR / c, 'coco', data_root=str(tmp_path),
                                                       check_data=False).cfg.model.to_dict()))
              for c in ('methods/ld_gfl.py', 'detectors/gfl_r50.py')]
    assert counts[0] == counts[1] > 30  # LDHead is GFLHead plus a loss
