"""The teacher's checkpoint, checked against its config before training (URLs: tests/training/test_weights.py)."""

import pytest
import torch
from torch import nn

from repro.distill import teacher as teacher_module
from repro.distill.teacher import load_teacher
from repro.errors import ReproError
from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR


def tiny_net():
    return nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 2, 1))


def test_matching_checkpoint_loads(tmp_path):
    source, target = tiny_net(), tiny_net()
    torch.save({'state_dict': source.state_dict(), 'meta': {'epoch': 24}}, tmp_path / 't.pth')
    load_teacher(target, str(tmp_path / 't.pth'))
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), target.state_dict().values()))


def test_missing_keys_and_shape_mismatches_are_named(tmp_path):
    state = tiny_net().state_dict()
    state['2.weight'] = torch.zeros(3, 4, 1, 1)
    del state['1.running_mean']
    torch.save({'state_dict': state}, tmp_path / 'bad.pth')
    with pytest.raises(ReproError) as err:
        load_teacher(tiny_net(), str(tmp_path / 'bad.pth'))
    message = str(err.value)
    assert '1 missing keys (1.running_mean)' in message
    assert '2.weight (3, 4, 1, 1) vs (2, 4, 1, 1)' in message and '\n' not in message


def test_coco_profile_teachers_come_from_the_zoo(tmp_path):
    for name in ('annotations/instances_train2017.json', 'annotations/instances_val2017.json'):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text('{}')
    (tmp_path / 'train2017').mkdir()
    (tmp_path / 'val2017').mkdir()
    compiled = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'coco', data_root=str(tmp_path))
    zoo = compile_config(CONFIG_DIR / 'teachers/gfl_r101.py', 'coco', data_root=str(tmp_path)).cfg.zoo_checkpoint
    assert compiled.teacher_checkpoint == zoo and zoo.startswith('https://')
    mine = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'coco', ['teacher.checkpoint=/data/t.pth'],
                          data_root=str(tmp_path))
    assert mine.teacher_checkpoint == '/data/t.pth'
    assert mine.run_key != compiled.run_key  # other teacher weights, another run


def test_tiny_profile_teacher_is_the_harness_run(tmp_path):
    compiled = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'tiny')
    assert compiled.teacher_checkpoint.endswith(f'gfl_r101-{compiled.teacher.run_key}/weights.pth')
    assert teacher_module  # imported for monkeypatching targets


def test_a_caffe_teacher_sees_its_own_normalisation_of_the_batch():
    """fcos_mbv2 (ImageNet RGB mean/std) distilled from mmdet's FCOS R101 (caffe: BGR, std 1): the teacher's input
    must be what its own preprocessor makes of the raw image, not the student's normalisation."""
    from test_detector import build
    model, _ = build('pgd_fcos_mbv2.py', ['teacher.config=configs/teachers/fcos_r101.py'])
    s, t = model.data_preprocessor, model.teacher.data_preprocessor
    assert not torch.equal(s.std, t.std) and s._channel_conversion != t._channel_conversion
    raw = torch.rand(1, 3, 8, 8) * 255  # as loaded: BGR
    student_in = (raw.flip(1) - s.mean) / s.std  # what the student's preprocessor makes of it (bgr_to_rgb)
    teacher_own = (raw - t.mean) / t.std          # the caffe teacher keeps BGR
    assert torch.allclose(model.teacher_inputs(student_in), teacher_own, atol=1e-4)
    same, _ = build('pgd_fcos.py')
    x = torch.randn(1, 3, 8, 8)
    assert same.teacher_inputs(x) is x  # same normalisation: untouched


@pytest.mark.slow
def test_a_teacher_with_random_weights_is_refused_before_distilling(tmp_path, monkeypatch):
    """The teacher's weights are evaluated before its student trains: random ones (as a checkpoint that silently did
    not load would leave) reach 0 AP, and the run is refused in one line, without a record; --trust-teacher lets
    it through, and the measured AP goes into the distilled run's record."""
    from conftest import FAST
    from mmdet.registry import MODELS

    from repro.runs.store import read_record
    from repro.runs.lifecycle import check_teacher
    from repro.runs.lifecycle import train
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'store'))
    monkeypatch.delenv('REPRO_TRUST_TEACHER', raising=False)
    teacher_overrides = FAST + ['train_cfg.max_epochs=1']
    compiled = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny', teacher_overrides)
    torch.manual_seed(0)
    random_teacher = MODELS.build(compiled.cfg.model)
    torch.save({'state_dict': random_teacher.state_dict()}, tmp_path / 'random.pth')
    overrides = teacher_overrides + ['teacher.config=configs/detectors/gfl_r50.py',
                                     f'+teacher.overrides={teacher_overrides!r}',
                                     f"teacher.checkpoint={tmp_path / 'random.pth'}"]
    student_dir = tmp_path / 'student'
    with pytest.raises(ReproError, match=r"crosskd_gfl.py: its teacher gfl_r50.py reaches 0.0 AP with .*random.pth, "
                                         r'below 1.0 AP, which random or unloaded weights give; check the checkpoint'):
        train(CONFIG_DIR / 'methods/crosskd_gfl.py', overrides, 'tiny', work_dir=student_dir, wandb='disabled')
    assert not student_dir.exists()
    monkeypatch.setenv('REPRO_TRUST_TEACHER', '1')
    distilled = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'tiny', overrides)
    assert check_teacher(distilled, 'tiny', None, 'disabled') == 0.0  # measured once: the evaluation run is reused
    evaluations = list((tmp_path / 'store').rglob('result.json'))
    assert len(evaluations) == 1 and read_record(evaluations[0].parent)['evaluated_from'].endswith('random.pth')


@pytest.mark.slow
def test_lds_teacher_goes_through_the_key_and_shape_check(tmp_path, monkeypatch):
    """mmdet's LD detector would load any weights into its teacher with a warning (mmengine's load_checkpoint); the
    harness loads them itself and refuses a checkpoint of another architecture (here an R18 for the R50 teacher),
    also where the teacher is not evaluated first (torchrun, Slurm)."""
    from conftest import FAST
    from mmdet.registry import MODELS

    import repro.runs.lifecycle
    from repro.runs.lifecycle import train
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'store'))
    monkeypatch.setattr(repro.runs.lifecycle, 'check_teacher', lambda *args: 0.0)
    r18 = compile_config(CONFIG_DIR / 'detectors/gfl_r18.py', 'tiny', FAST).cfg
    torch.save({'state_dict': MODELS.build(r18.model).state_dict()}, tmp_path / 'r18.pth')
    teacher = FAST + ['model.backbone.depth=50']
    overrides = FAST + ['teacher.config=configs/detectors/gfl_r50.py', f'+teacher.overrides={teacher!r}',
                        f"teacher.checkpoint={tmp_path / 'r18.pth'}", 'train_cfg.max_epochs=1']
    with pytest.raises(ReproError, match=r'teacher checkpoint .*r18.pth does not match the teacher config: .*shape '
                                         r'mismatches'):
        train(CONFIG_DIR / 'methods/ld_gfl.py', overrides, 'tiny', work_dir=tmp_path / 'ld', wandb='disabled')


def test_a_zoo_teacher_is_held_to_the_zoos_ap(tmp_path, monkeypatch):
    """coco: a zoo teacher measured far below the AP mmdet's model zoo lists for its weights is refused (a teacher
    that did not load, or another val split); near it, it passes, and the measured AP is returned."""
    import repro.runs.lifecycle
    from repro.runs.lifecycle import TOLERANCE, check_teacher, zoo_ap
    monkeypatch.delenv('REPRO_TRUST_TEACHER', raising=False)
    compiled = compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'coco', data_root=str(tmp_path), check_data=False)
    weights = compiled.teacher_checkpoint.rsplit('/', 1)[1]
    assert zoo_ap(weights) == 44.7 and zoo_ap('not_in_the_zoo.pth') is None
    measured = {'AP': 44.7 - TOLERANCE - 0.1}
    monkeypatch.setattr(repro.runs.lifecycle, 'train', lambda *args, **kwargs: {'metrics': dict(measured)})
    with pytest.raises(ReproError, match=rf"reaches {measured['AP']} AP with .*{weights}, more than 3 AP under the "
                                         r"44.7 AP mmdet's model zoo gives them; check the checkpoint"):
        check_teacher(compiled, 'coco', str(tmp_path), 'disabled')
    measured['AP'] = 44.1
    assert check_teacher(compiled, 'coco', str(tmp_path), 'disabled') == 44.1
