"""Every bad input is refused in one line before any work starts: exit status 2, no traceback, no work dir."""
import json
import os
import signal
import stat
import subprocess

import pytest

import repro.train
from conftest import PYTHON, REPO
from repro.cli import run_cli
from repro.errors import ReproError
from repro.io import atomic_write_bytes, atomic_write_json
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
    monkeypatch.setattr(repro.train, '_run', lambda *args: (_ for _ in ()).throw(Trained()))
    return root


@pytest.fixture
def refused(work_dirs, capsys):
    """`python -m repro.train ARGS` in this process: returns its one stderr line, having checked the exit status
    and that nothing was written."""
    def refuse(*argv) -> str:
        sigterm = signal.getsignal(signal.SIGTERM)  # run_cli installs its own
        try:
            with pytest.raises(SystemExit) as exit_:
                run_cli(lambda: repro.train.main([*argv, '--wandb', 'disabled']))
        finally:
            signal.signal(signal.SIGTERM, sigterm)
        err = capsys.readouterr().err
        assert exit_.value.code == 2 and 'Traceback' not in err, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith('error: '), err
        assert not list(work_dirs.iterdir())
        return lines[0].removeprefix('error: ')
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
    coco = tmp_path / 'coco'
    for part in COCO_LAYOUT:
        (coco / part).parent.mkdir(parents=True, exist_ok=True)
        (coco / part).touch()
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
