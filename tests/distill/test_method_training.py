"""Every method config trains for real in the tiny profile (a few iterations, a tiny teacher trained first)."""
import json
import math
import re

import pytest
import torch
from mmengine.config import Config

from conftest import FAST
from repro.training.checkpoint import load_checkpoint_file
from repro.runs.store import read_dynamics
from repro.plan.compile import MMDET_KD_DETECTOR, compile_config, load_config
from repro.profiles import CONFIG_DIR
from repro.runs.lifecycle import train

# Every method trains here once: each CrossKD-table method, PGD on each detector, each baseline (on GFL or, for RM
# and PFI, RetinaNet), and each path of its own (CrowdHuman's metric, a caffe teacher of a MobileNetV2 student).
# A baseline's configs for the other detectors, datasets and students differ only in the student/teacher pair:
# tests/distill/test_detector.py runs two optimizer steps of every config, these included.
# RTMDet (issue 21) trains here once, with CrossKD (its 300-epoch schedule, EMA and pipeline switch are the
# student's, whatever the method); its other methods and the GFL -> RTMDet pair run one step in
# tests/distill/test_method_adapter_matrix.py and two in test_detector.py. YOLOX's methods run there only: the
# RTMDet run covers the long-schedule path, and YOLOX's tiny dataset wrapper and mode switch are tested in
# tests/distill/test_detector.py::test_yolox_tiny_data_and_mode_switch.
SAME_METHOD_ELSEWHERE = re.compile(r'^((defeat|fgd|fkd|frs|fgfi)_(fcos|autoassign|atss|ddod)(_crowdhuman)?'
                                   r'|fgd_(fcos|atss)_mbv2|pgd_atss_mbv2|(fgd|pgd)_self_(fcos|atss)'
                                   r'|(pgd|pkd|fgd|defeat)_rtmdet|crosskd_gfl_rtmdet'
                                   r'|(crosskd|pgd|pkd|fgd|defeat)_yolox|(pgd|pkd|fgd|defeat)_tood)\.py$')
METHODS = sorted(p.name for p in (CONFIG_DIR / 'methods').glob('*.py') if not SAME_METHOD_ELSEWHERE.match(p.name))
# no depth override here: Swin and MobileNetV2 backbones have no depth
ONE_EPOCH = [o for o in FAST if 'backbone.depth' not in o] + ['train_cfg.max_epochs=1']


def run_overrides(method: str) -> list[str]:
    """ONE_EPOCH for the student and the teacher; a 3x teacher's train set is a RepeatDataset, whose inner
    dataset takes the subset."""
    teacher = load_config(CONFIG_DIR.parent / load_config(CONFIG_DIR / 'methods' / method).teacher.config)
    inner = 'dataset.' if 'dataset' in teacher.train_dataloader.dataset else ''
    teacher_run = [o.replace('train_dataloader.dataset.', f'train_dataloader.dataset.{inner}') for o in ONE_EPOCH]
    return ONE_EPOCH + [f'+teacher.overrides={teacher_run!r}']


@pytest.mark.slow
@pytest.mark.parametrize('method', METHODS)
def test_method_trains_logs_kd_losses_and_saves_a_plain_student(method, tmp_path):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    run = run_overrides(method)
    result = train(CONFIG_DIR / 'methods' / method, run, profile='tiny', work_dir=tmp_path)
    assert result['status'] == 'done' and 0 <= result['metrics']['AP'] <= 100
    logged = [json.loads(line) for p in tmp_path.glob('*/vis_data/scalars.json') for line in p.read_text().splitlines()]
    kd = {k: v for row in logged for k, v in row.items() if k.startswith(('loss_kd_', 'loss_ld'))}
    assert kd and all(torch.isfinite(torch.tensor(v)) for v in kd.values())
    register_all_modules()
    model_cfg = compile_config(CONFIG_DIR / 'methods' / method, 'tiny', run).cfg.model
    # the run's plain-mmdet pair (repro/training/export.py): no harness keys, and the student's weights load strictly
    assert 'error' not in result['export'], result['export']
    exported = Config.fromfile(result['export']['config'])
    assert not {'teacher', 'distill', 'assist', 'custom_imports'} & set(exported)
    assert exported.model.type not in ('DistillDetector', 'AssistantHeadDetector', MMDET_KD_DETECTOR)
    plain = MODELS.build(exported.model)
    plain.load_state_dict(load_checkpoint_file(result['export']['weights'])['state_dict'], strict=True)
    assert result['export']['student']['params_m'] == round(sum(p.numel() for p in plain.parameters()) / 1e6, 3)
    if model_cfg.get('distill', {}).get('inherit'):  # the Runner's init_weights copied the teacher's neck and head
        assert any('distill.inherit: the student' in p.read_text() for p in tmp_path.glob('*/*.log'))
    if model_cfg.type == 'DistillDetector':  # the training-dynamics hook measured the untrained and trained student
        epochs = read_dynamics(tmp_path)['epochs']
        assert [e['epoch'] for e in epochs] == [0, 1]
        for entry in epochs:
            assert {'to_teacher/cls', 'to_teacher/box', 'to_gt/total'} <= set(entry)
            assert all(math.isfinite(v) and v >= 0 for k, v in entry.items() if k.startswith('to_'))
        assert epochs[1]['AP'] == result['metrics']['AP']  # the epoch's val AP, as the run recorded it
