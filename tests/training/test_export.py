"""A finished run's plain-mmdet pair (repro/training/export.py): what the export removes and replaces, and, end to end on a
tiny distilled run, that plain mmdet alone loads the pair and its test loop gives the AP the harness reported."""
import importlib
import json
import subprocess

import pytest
import torch

from conftest import FAST, PYTHON, REPO
from repro.errors import ReproError
from repro.training.export import checkpoint_stats, describe, plain_config, plain_model
from repro.profiles import CONFIG_DIR

STUDENT = {'type': 'GFL', 'backbone': {'type': 'ResNet'}, 'bbox_head': {'type': 'GFLHead'}}


def test_a_distillers_plain_model_is_its_student_with_the_data_preprocessor():
    model = {'type': 'DistillDetector', 'student': STUDENT, 'teacher': {'type': 'GFL'}, 'distill': {},
             'teacher_checkpoint': 'x.pth', 'data_preprocessor': {'type': 'DetDataPreprocessor'}}
    assert plain_model(model) == {**STUDENT, 'data_preprocessor': {'type': 'DetDataPreprocessor'}}
    assert plain_model({**model, 'type': 'AssistantHeadDetector', 'data_preprocessor': None}) == STUDENT


def test_mmdets_ld_detector_becomes_the_gfl_it_distils():
    ld = {'type': 'KnowledgeDistillationSingleStageDetector', 'backbone': {'type': 'ResNet'},
          'bbox_head': {'type': 'LDHead', 'num_classes': 6, 'loss_ld': {'type': 'KnowledgeDistillationKLDivLoss'}},
          'teacher_config': {'model': {}}, 'teacher_ckpt': 'x.pth', 'eval_teacher': True}
    assert plain_model(ld) == {'type': 'GFL', 'backbone': {'type': 'ResNet'},
                               'bbox_head': {'type': 'GFLHead', 'num_classes': 6}}


def _config(**extra):
    from mmengine.config import Config
    for module in ('repro.distill', 'repro.evaluation', 'repro.training.tracking'):  # the harness's types, as in a run
        importlib.import_module(module)
    return Config({'model': STUDENT, 'env_cfg': {'torch_threads': 1, 'cudnn_benchmark': False},
                   'custom_imports': {'imports': ['repro.distill']}, 'teacher': {'config': 't.py'},
                   'distill': {'terms': {}}, **extra})


def test_the_harness_keys_go_and_its_metrics_and_backends_become_mmdets():
    cfg = _config(val_evaluator={'type': 'FasterCocoMetric', 'ann_file': 'val.json', 'metric': 'bbox'},
                  visualizer={'type': 'DetLocalVisualizer', 'name': 'visualizer-key-123',
                              'vis_backends': [{'type': 'LocalVisBackend'}, {'type': 'ReproWandbVisBackend'}]})
    plain, notes = plain_config(cfg)
    assert not {'custom_imports', 'teacher', 'distill'} & set(plain) and not notes
    assert plain['env_cfg'] == {'cudnn_benchmark': False}
    assert plain['val_evaluator'] == {'type': 'CocoMetric', 'ann_file': 'val.json', 'metric': 'bbox'}
    assert plain['test_evaluator'] == plain['val_evaluator']  # mmdet's test loop evaluates what the run did
    assert plain['visualizer'] == {'type': 'DetLocalVisualizer', 'vis_backends': [{'type': 'LocalVisBackend'}]}
    assert plain['default_scope'] == 'mmdet' and plain['load_from'] is None and plain['resume'] is False


def test_the_crowdhuman_metric_becomes_coco_box_ap_with_a_note():
    crowd = {'type': 'CrowdDetMetric', 'ann_file': 'val.json', 'iou_thr': 0.5}
    plain, notes = plain_config(_config(val_evaluator=crowd, val_dataloader={'dataset': {'ann_file': 'val.json'}},
                                        test_dataloader={'dataset': {'ann_file': 'test.json'}}))
    assert len(notes) == 1 and 'CrowdDetMetric' in notes[0]
    assert plain['test_evaluator'] == {'type': 'CocoMetric', 'ann_file': 'val.json', 'metric': 'bbox'}
    assert plain['test_dataloader'] == plain['val_dataloader']


def test_any_other_harness_type_stops_the_export_in_one_line():
    cfg = _config(custom_hooks=[{'type': 'EMAHook'}, {'type': 'AssistantHeadDetector'}])
    with pytest.raises(ReproError, match=r'^cannot export: the config builds AssistantHeadDetector '
                                         r'\(repro\.distill\.assistant\) at cfg\.custom_hooks\[1\]'):
        plain_config(cfg)


@pytest.mark.parametrize('detector', ['gfl_r50', 'rtmdet_s'])  # RTMDet: convs shared across levels, stored once
def test_the_parameter_count_is_what_parameters_counts(detector, tmp_path):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    from repro.plan.compile import compile_config
    register_all_modules()
    model = MODELS.build(compile_config(CONFIG_DIR / f'detectors/{detector}.py', 'tiny').cfg.model)
    torch.save({'state_dict': model.state_dict()}, tmp_path / 'w.pth')
    stats = checkpoint_stats(tmp_path / 'w.pth')
    assert stats['params_m'] == round(sum(p.numel() for p in model.parameters()) / 1e6, 3)
    assert stats['size_mb'] == round((tmp_path / 'w.pth').stat().st_size / 2 ** 20, 2)


def _export_cli(*args, cwd=REPO):
    return subprocess.run([PYTHON, '-m', 'repro.export', *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_exporting_what_is_not_a_finished_run_is_one_line(tmp_path):
    done = _export_cli(tmp_path / 'nowhere', tmp_path / 'out')
    assert done.returncode == 2 and done.stderr.strip().count('\n') == 0
    assert 'is not a run directory' in done.stderr
    (tmp_path / 'run').mkdir()
    (tmp_path / 'run' / 'result.json').write_text(json.dumps({'status': 'running', 'config': 'c.py'}))
    done = _export_cli(tmp_path / 'run', tmp_path / 'out')
    assert done.returncode == 2 and 'the run is running, not finished' in done.stderr
    assert done.stderr.strip().count('\n') == 0 and not (tmp_path / 'out').exists()


# Train and evaluate on the same 16 training images, so that a few epochs give AP above zero: an AP of 0 everywhere
# would match whatever the pair loaded.
ON_TRAIN = ['val_dataloader.dataset.ann_file=annotations/instances_train.json',
            'val_dataloader.dataset.data_prefix.img=train/']
TEACHER = [o.replace('depth=18', 'depth=34') for o in FAST] + ON_TRAIN + ['train_cfg.max_epochs=12',
                                                                          'train_cfg.val_interval=12']


@pytest.fixture(scope='module')
def distilled(tmp_path_factory):
    from repro.runs.lifecycle import train
    work_dir = tmp_path_factory.mktemp('crosskd')
    overrides = FAST + ON_TRAIN + ['train_cfg.max_epochs=8', 'train_cfg.val_interval=8',
                                   f'+teacher.overrides={TEACHER!r}']
    result = train(CONFIG_DIR / 'methods/crosskd_gfl.py', overrides, profile='tiny', work_dir=work_dir)
    return overrides, result


def _plain_mmdet(config, weights, work_dir):
    done = subprocess.run([PYTHON, str(REPO / 'tests/training/plain_mmdet_check.py'), str(config), str(weights),
                           str(work_dir)], capture_output=True, text=True, timeout=300, cwd=work_dir)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow(minutes=4)
def test_plain_mmdet_loads_the_pair_and_its_test_loop_gives_the_runs_ap(distilled, tmp_path):
    _, result = distilled
    export = result['export']
    text = open(export['config']).read()
    assert not any(word in text for word in ("'repro.", "type='Repro", 'teacher', 'distill', 'custom_imports'))
    checked = _plain_mmdet(export['config'], export['weights'], tmp_path)
    assert checked['classes'] == ['disk', 'square', 'triangle', 'cross', 'ring', 'star']
    assert max(result['metrics'].values()) > 0  # else equal metrics would prove nothing
    for name, value in result['metrics'].items():
        assert abs(checked['metrics'][name] - value) <= 0.1, (name, checked['metrics'], result['metrics'])


@pytest.mark.slow
def test_the_record_compares_the_students_size_with_the_teachers(distilled):
    from repro.plan.compile import compile_config
    overrides, result = distilled
    export = result['export']
    teacher = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'tiny', overrides).teacher_checkpoint
    assert export['student'] == checkpoint_stats(export['weights'])
    assert export['teacher'] == checkpoint_stats(teacher)
    assert export['teacher']['params_m'] > export['student']['params_m']  # an R34 teacher, an R18 student


@pytest.mark.slow
def test_the_export_command_writes_the_same_pair_for_a_finished_run(distilled, tmp_path):
    from repro.training.checkpoint import load_checkpoint_file
    _, result = distilled
    done = _export_cli(result['work_dir'], tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / 'crosskd_gfl.py').read_text() == open(result['export']['config']).read()
    ours, theirs = (load_checkpoint_file(p) for p in (tmp_path / 'crosskd_gfl.pth', result['export']['weights']))
    assert ours['meta'] == theirs['meta'] and ours['state_dict'].keys() == theirs['state_dict'].keys()
    assert all(torch.equal(ours['state_dict'][k], theirs['state_dict'][k]) for k in ours['state_dict'])
    assert describe(result['export']) in done.stdout and 'teacher' in describe(result['export'])
