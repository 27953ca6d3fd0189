"""Every bad input is refused in one line before any work starts: exit status 2, no traceback, no work dir."""
import json
import os
import signal
import stat
import subprocess

import pytest

import repro.run
import repro.train
import repro.training.runner
from conftest import PYTHON, REPO
from repro.cli import run_cli
from repro.errors import ReproError
from repro.runs.atomic import atomic_write_bytes, atomic_write_json
from repro.profiles import COCO_LAYOUT, choose_profile

GFL = 'configs/detectors/gfl_r50.py'
CROSSKD = 'configs/methods/crosskd_gfl.py'
DEPTHS = 'ResNet supports depths 18, 34, 50, 101, 152'


class Trained(Exception):
    """Raised where training would start."""


@pytest.fixture
def work_dirs(tmp_path, monkeypatch):
    """An empty store, and training that fails the test if a refused run got as far as starting it."""
    root = tmp_path / 'work_dirs'
    root.mkdir()
    monkeypatch.setenv('REPRO_WORK_DIRS', str(root))
    monkeypatch.setenv('REPRO_COCO_ROOT', str(tmp_path / 'no-coco'))  # the same choice whether or not data/coco is
    monkeypatch.setattr(repro.training.runner, 'run', lambda *args, **kwargs: (_ for _ in ()).throw(Trained()))
    return root


@pytest.fixture
def refused(work_dirs, capsys):
    """`python -m repro.train ARGS` in this process: returns its one stderr line, having checked the exit status
    and that nothing was written."""
    def refuse(*argv) -> str:
        # offline W&B writes under the run's work dir: that nothing is written shows that no W&B run opened
        line = _refusal(lambda: repro.train.main([*argv, '--wandb', 'offline']), capsys)
        assert not list(work_dirs.iterdir())
        return line
    return refuse


@pytest.mark.parametrize('args, message', [
    (['train_cfg.max_epochs=-1'], 'train_cfg.max_epochs=-1: must be a positive integer'),
    (['train_cfg.max_epochs=abc'], "train_cfg.max_epochs='abc': must be a positive integer"),
    (['train_cfg.max_epochs=1.5'], 'train_cfg.max_epochs=1.5: must be a positive integer'),
    (['train_cfg.val_interval=0'], 'train_cfg.val_interval=0: must be a positive integer'),
    (['+train_cfg.max_iters=-5'], 'train_cfg.max_iters=-5: must be a positive integer'),
    (['train_dataloader.batch_size=0'], 'train_dataloader.batch_size=0: must be a positive integer'),
    (['val_dataloader.batch_size=True'], 'val_dataloader.batch_size=True: must be a positive integer'),
    (['test_dataloader.batch_size=-2'], 'test_dataloader.batch_size=-2: must be a positive integer'),
    (['optim_wrapper.optimizer.lr=0'], 'optim_wrapper.optimizer.lr=0: must be a positive number'),
    (['optim_wrapper.optimizer.lr=fast'], "optim_wrapper.optimizer.lr='fast': must be a positive number"),
    (['model.neck.out_channels=0'], 'model.neck.out_channels=0: must be a positive integer'),
    (['model.bbox_head.feat_channels=-8'], 'model.bbox_head.feat_channels=-8: must be a positive integer'),
    (['model.bbox_head.in_channels=wide'], "model.bbox_head.in_channels='wide': must be a positive integer"),
    (['model.backbone.base_channels=None'], 'model.backbone.base_channels=None: must be a positive integer'),
    (['model.backbone.depth=19'], f'model.backbone.depth=19: {DEPTHS}'),
    (['model.backbone.depth=50.0'], f'model.backbone.depth=50.0: {DEPTHS}'),
    (['--seed', '-1'], '--seed=-1: must be an integer from 0 to 4294967295'),
    (['--seed', str(2 ** 32)], '--seed=4294967296: must be an integer from 0 to 4294967295'),
    (['--seed', 'abc'], "argument --seed: invalid int value: 'abc' (see python -m repro.train --help)"),
    (['--work-dir', ''], "--work-dir='': name a folder, or leave --work-dir out"),
    (['--data-root', ''], "--data-root='': name a folder, or leave --data-root out"),
    (['--seed', '1', 'train_cfg.max_epochs=0'], 'train_cfg.max_epochs=0: must be a positive integer'),  # after options
    (['--evaluate-from', '/nonexistent/w.pth'], 'checkpoint not found: /nonexistent/w.pth; check the path (or pass '
                                                'a URL)'),
])
def test_a_bad_setting_is_refused_before_any_work(refused, args, message):
    assert refused(GFL, *args) == message


@pytest.mark.parametrize('args, message', [
    (['model.backbone.depth=19'], f'model.backbone.depth=19: {DEPTHS}'),  # the student's
    (['teacher.overrides=["model.backbone.depth=19"]'], f'teacher gfl_r101.py: model.backbone.depth=19: {DEPTHS}'),
    (['teacher.overrides=["train_cfg.max_epochs=0"]'], 'teacher gfl_r101.py: train_cfg.max_epochs=0: must be a '
                                                       'positive integer'),
])
def test_a_distillation_run_checks_its_student_and_its_teacher(refused, args, message):
    assert refused(CROSSKD, *args) == message


def test_a_data_root_that_does_not_exist_is_an_error(refused, tmp_path):
    missing = tmp_path / 'nowhere'
    assert refused(GFL, '--data-root', str(missing)).startswith(f'--data-root {missing}: no such folder')
    assert refused(GFL, '--profile', 'tiny', '--data-root', str(missing)).startswith(f'--data-root {missing}:')


def test_a_data_root_means_the_coco_profile(refused, tmp_path):
    """Without --profile, a --data-root that holds no COCO is an error, never a silent fall back to tiny."""
    empty = tmp_path / 'empty'
    empty.mkdir()
    assert refused(GFL, '--data-root', str(empty)).startswith(f'no COCO 2017 at {empty}')
    assert choose_profile(None, str(empty)) == ('coco', None)
    assert choose_profile('tiny', str(empty)) == ('tiny', None)


def test_an_automatic_profile_choice_is_said_on_stderr(work_dirs, tmp_path, monkeypatch, capsys):
    with pytest.raises(Trained):  # accepted: the note, then training
        repro.train.main([GFL, '--wandb', 'disabled'])
    assert capsys.readouterr().err.splitlines() == [
        f"note: profile tiny (no COCO found at {tmp_path / 'no-coco'}; pass --profile coco --data-root DIR for the "
        "papers' setup)"]
    coco = _coco_root(tmp_path / 'coco')
    monkeypatch.setenv('REPRO_COCO_ROOT', str(coco))
    profile, note = choose_profile(None, None)
    assert profile == 'coco' and note.startswith(f'profile coco (COCO 2017 found at {coco}')
    assert choose_profile('tiny', None) == ('tiny', None)  # an explicit choice needs no note


def test_the_cli_exits_2_and_writes_no_work_dir(tmp_path):
    """The real process: `repro.train CONFIG train_cfg.max_epochs=-1` used to finish as a 'done' run with AP 0."""
    work_dir = tmp_path / 'run'
    proc = subprocess.run([PYTHON, '-m', 'repro.train', GFL, 'train_cfg.max_epochs=-1', '--work-dir', str(work_dir)],
                          cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={**os.environ, 'REPRO_WORK_DIRS': str(tmp_path / 'store')})
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines() == ['error: train_cfg.max_epochs=-1: must be a positive integer']
    assert not work_dir.exists() and not (tmp_path / 'store').exists()


@pytest.mark.parametrize('umask, file_mode, dir_mode', [(0o022, 0o644, 0o755), (0o077, 0o600, 0o700)])
def test_written_files_follow_the_umask(tmp_path, umask, file_mode, dir_mode):
    """Records, weights and reports are shared: their mode is what the umask gives a new file, not mkstemp's 0600."""
    old = os.umask(umask)
    try:
        atomic_write_json(tmp_path / 'run' / 'result.json', {'status': 'done'})
        atomic_write_bytes(tmp_path / 'run' / 'weights.pth', b'weights')
        atomic_write_json(tmp_path / 'run' / 'result.json', {'status': 'done', 'again': True})  # replaced
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / 'run').stat().st_mode) == dir_mode
    for name in ('result.json', 'weights.pth'):
        assert stat.S_IMODE((tmp_path / 'run' / name).stat().st_mode) == file_mode
    assert json.loads((tmp_path / 'run' / 'result.json').read_text())['again']
    assert sorted(p.name for p in (tmp_path / 'run').iterdir()) == ['result.json', 'weights.pth']  # no .tmp left


def test_a_failed_write_is_one_line(tmp_path):
    (tmp_path / 'run').write_text('a file where the work dir should be')
    with pytest.raises(ReproError, match=f'cannot write {tmp_path / "run" / "result.json"}: File exists'):
        atomic_write_json(tmp_path / 'run' / 'result.json', {})


@pytest.mark.parametrize('env, message', [
    ({'REPRO_WANDB': 'onlin'}, 'REPRO_WANDB=onlin: unknown W&B mode; choose one of online, offline, disabled'),
    ({'REPRO_COCO_EVAL': 'fast'}, 'REPRO_COCO_EVAL=fast: unknown COCO evaluation backend'),
    ({'REPRO_WORK_DIRS': '{file}/runs'}, 'REPRO_WORK_DIRS={file}/runs: {file} is a file, not a folder'),
    ({'REPRO_CACHE': '{file}'}, 'REPRO_CACHE={file}: {file} is a file, not a folder'),
    ({'REPRO_REPORTS': '{file}/r'}, 'REPRO_REPORTS={file}/r: {file} is a file, not a folder'),
])
def test_a_bad_environment_is_refused_before_any_work(work_dirs, tmp_path, monkeypatch, capsys, env, message):
    """By repro.train, by repro.run and by its dry run alike, before a plan, a config dump or a W&B run."""
    file = tmp_path / 'a-file'
    file.write_text('')
    for name, value in env.items():
        monkeypatch.setenv(name, value.format(file=file))
    message = message.format(file=file)
    for main in (lambda: repro.train.main([GFL, '--profile', 'tiny']),
                 lambda: repro.run.main(['crosskd:table4', '--profile', 'tiny']),
                 lambda: repro.run.main(['crosskd:table4', '--profile', 'tiny', '--dry-run'])):
        assert _refusal(main, capsys).startswith(message)
        assert not list(work_dirs.iterdir()) or env.get('REPRO_WORK_DIRS')


def test_a_work_dir_that_cannot_be_written_is_refused(refused, tmp_path, monkeypatch):
    file = tmp_path / 'a-file'
    file.write_text('')
    assert refused(GFL, '--work-dir', str(file / 'run')) == (f'--work-dir={file}/run: {file} is a file, not a '
                                                             'folder; choose a folder to write into')
    locked = tmp_path / 'locked'
    locked.mkdir()
    real = os.access  # as root, chmod cannot take the right away: ask os.access as a user without it would
    monkeypatch.setattr(os, 'access', lambda path, mode: False if str(path) == str(locked) else real(path, mode))
    assert refused(GFL, '--work-dir', str(locked / 'run')).startswith(
        f'--work-dir={locked}/run: {locked} is not writable by this user')


@pytest.mark.parametrize('args, message', [
    (['--rerun', 'nosuch'], '--rerun names no row of crosskd:table4: nosuch'),
    (['--launcher', 'slurm'], '--launcher slurm: no Slurm on this machine'),
    (['--wandb', 'onlin'], "argument --wandb: invalid choice: 'onlin'"),
    (['--seeds', '0'], '--seeds=0: must be an integer from 1 to 100'),
    (['--seeds', '99999999999'], '--seeds=99999999999: must be an integer from 1 to 100'),
    (['--jobs', '-1'], '--jobs=-1: must be a positive integer'),
    (['--launcher', 'torchrun', '--cpu', '--master-port', '99999'], '--master-port=99999: must be an integer from 1 '
                                                                    'to 65535'),
    (['--launcher', 'torchrun', '--cpu', '--nnodes', '2', '--node-rank', '2'], '--node-rank=2: must be from 0 to 1'),
    (['--gpus-per-node', '-1'], '--gpus-per-node=-1: must be an integer from 0'),
    (['--array-parallelism', '0'], '--array-parallelism=0: must be a positive integer'),
    (['--slurm-arg', 'account'], "--slurm-arg='account': write it as key=value"),
    (['--data-root', ''], "--data-root='': name a folder, or leave --data-root out"),
    (['--tolerance', '-0.1'], '--tolerance=-0.1: must be a non-negative number'),
    (['--restore', 'no-such-dir'], '--restore no-such-dir: no such folder'),
])
def test_a_dry_run_refuses_what_the_run_would(work_dirs, capsys, args, message):
    if args[:2] == ['--launcher', 'slurm'] and __import__('shutil').which('sbatch'):
        pytest.skip('a machine without Slurm shows it')
    for dry in ([], ['--dry-run']):
        assert _refusal(lambda: repro.run.main(['crosskd:table4', '--profile', 'tiny', *args, *dry]),
                        capsys).startswith(message)
    assert not list(work_dirs.iterdir())


def test_a_dry_run_without_the_coco_root_prints_the_plan_then_refuses(work_dirs, tmp_path, capsys):
    """The plan (and its GPU-hour estimate) is worth seeing before the data is there, but the exit status says the
    run would stop."""
    message = _refusal(lambda: repro.run.main(['crosskd:table4', '--profile', 'coco', '--dry-run']), capsys,
                       stdout=lambda out: 'GPU-hours' in out.splitlines()[-1])
    assert message.startswith(f"no COCO 2017 at {tmp_path / 'no-coco'}")
    assert not list(work_dirs.iterdir())


def _refusal(main, capsys, stdout=lambda out: True) -> str:
    """Run a CLI's main under run_cli: exit status 2, one `error:` line on stderr, no traceback; returns the line."""
    sigterm = signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as exit_:
            run_cli(main)
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    out, err = capsys.readouterr()
    assert exit_.value.code == 2 and 'Traceback' not in err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: '), err
    assert stdout(out), out
    return lines[0].removeprefix('error: ')


def test_mmdet_style_options(work_dirs, tmp_path, monkeypatch):
    """--cfg-options is the positional key=value form; --resume CHECKPOINT resumes from a checkpoint of the run's
    own work dir; --amp is part of the run key."""
    seen = []

    def capture(compiled, *args, **kwargs):
        seen.append((compiled.run_key, compiled.cfg.get('resume_from'), compiled.cfg.optim_wrapper.type))
        raise Trained()
    monkeypatch.setattr(repro.training.runner, 'run', capture)
    for argv in (['train_cfg.max_epochs=3'], ['--cfg-options', 'train_cfg.max_epochs=3']):
        with pytest.raises(Trained):
            repro.train.main([GFL, *argv, '--wandb', 'disabled', '--work-dir', str(tmp_path / 'run')])
    assert seen[0] == seen[1]
    checkpoint = tmp_path / 'run' / 'epoch_1.pth'
    checkpoint.write_bytes(b'')
    with pytest.raises(Trained):
        repro.train.main([GFL, '--cfg-options', 'train_cfg.max_epochs=3', '--resume', str(checkpoint),
                          '--wandb', 'disabled', '--work-dir', str(tmp_path / 'run')])
    assert seen[2] == (seen[0][0], str(checkpoint), 'OptimWrapper')  # the same run, resumed from there
    import torch
    if not torch.cuda.is_available():
        with pytest.raises(ReproError, match='--amp .* needs a CUDA GPU, and this machine has none'):
            repro.train.main([GFL, '--amp', '--wandb', 'disabled'])
    else:
        from repro.plan.compile import compile_config
        from repro.plan.validate import AMP
        assert compile_config(GFL, 'tiny', AMP).run_key != seen[0][0]


def test_resume_takes_a_checkpoint_of_the_run_itself(refused, tmp_path):
    assert refused(GFL, '--resume', str(tmp_path / 'none.pth')) == f"--resume {tmp_path / 'none.pth'}: no such " \
                                                                   'checkpoint file'
    other = tmp_path / 'other.pth'
    other.write_bytes(b'')
    assert refused(GFL, '--resume', str(other)).startswith(f'--resume {other}: not a checkpoint of this run')


def _coco_root(root, val_json='{"images": []}'):
    for part in COCO_LAYOUT:
        (root / part).parent.mkdir(parents=True, exist_ok=True)
        if part.endswith('.json'):
            (root / part).write_text(val_json if 'val' in part else '{"images": []}')
        else:
            (root / part).mkdir()
    return root


def test_a_corrupt_or_unreadable_coco_root_is_one_line(refused, tmp_path, monkeypatch):
    cut = _coco_root(tmp_path / 'cut', val_json='{"images": [{"id": 1, "file_na')
    assert refused(GFL, '--data-root', str(cut)) == (
        f'{cut}/annotations/instances_val2017.json: not a complete JSON annotation file (it should start with {{ and '
        'end with }); download or convert it again')
    locked = _coco_root(tmp_path / 'locked')
    real = os.access  # as root, chmod cannot take the right away: answer as for a user without it
    monkeypatch.setattr(os, 'access', lambda p, mode: False if str(p).endswith('train2017') else real(p, mode))
    assert refused(GFL, '--data-root', str(locked)) == (f'{locked}/train2017: not readable by this user; fix its '
                                                        'permissions or pass another --data-root')


def test_an_os_error_is_one_line_naming_the_path(capsys):
    """Whatever file a run trips over (a checkpoint, an image, a work dir), the user reads its path and the cause."""
    def main():
        open('/nonexistent/dir/file.json')
    assert _refusal(main, capsys) == "/nonexistent/dir/file.json: No such file or directory"


def test_coco_never_trains_a_teacher_inside_another_run(refused, tmp_path):
    """A real-size teacher (here Swin-T's, which mmdet's zoo lacks) is a run of its own, not days of training hidden
    in its student's run with overrides that do not reach it."""
    root = _coco_root(tmp_path / 'coco')
    assert refused('configs/methods/crosskd_retinanet_swin_r50.py', '--data-root', str(root)).startswith(
        'crosskd_retinanet_swin_r50: its teacher run retinanet_swin_t.py (')


def test_a_spec_or_sweep_file_is_refused_by_the_cli_before_any_work(work_dirs, tmp_path, capsys):
    """A spec taking a built-in id, a published AP of 358, a sweep metric no run logs: one line, exit 2, nothing
    written, for the run and its dry run alike."""
    from repro.sweep import main as sweep_main
    import yaml
    builtin = (REPO / 'repro/tables/specs/crosskd_table4.yaml').read_text()
    (tmp_path / 'mine').mkdir()
    shadow = tmp_path / 'mine' / 'crosskd_table4.yaml'
    shadow.write_text(builtin)
    big = tmp_path / 'mine' / 'crosskd_table12.yaml'
    big.write_text(builtin.replace('number: 4', 'number: 12').replace('AP: 35.8', 'AP: 358', 1))
    sweep = tmp_path / 'mine' / 'k.yaml'
    sweep.write_text(yaml.safe_dump({**yaml.safe_load((REPO / 'sweeps/k_ablation.yaml').read_text()),
                                     'metric': {'name': 'val/AP', 'goal': 'maximize'}}))
    for dry in ([], ['--dry-run']):
        assert _refusal(lambda: repro.run.main([str(shadow), *dry]), capsys).startswith(
            f'{shadow} is crosskd:table4, the id of a built-in table')
        assert 'published.AP: 358 is out of range: AP is a percentage, 0 to 100' in _refusal(
            lambda: repro.run.main([str(big), *dry]), capsys)
        assert _refusal(lambda: sweep_main([str(sweep), *dry]), capsys).startswith(
            f"{sweep}: metric.name='val/AP' is never logged by a run")
    assert not list(work_dirs.iterdir())
