"""The results store: per-run locks, statuses, and what a killed run leaves for the next attempt."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import FAST, PYTHON, REPO
from repro.runs.store import RESULT_FILE, RunBusy, claim, is_locked, merge_rows, running_record, status, write_record
from repro.runs.lifecycle import train

GFL = 'configs/detectors/gfl_r50.py'


def test_statuses_and_a_second_claim_is_refused(tmp_path):
    assert status(tmp_path, 'k') == 'pending'
    with claim(tmp_path):
        assert status(tmp_path, 'k') == 'running'
        with pytest.raises(RunBusy, match='being trained by another process'):
            with claim(tmp_path):
                pass
        write_record(tmp_path, running_record({'run_key': 'k'}))
        assert status(tmp_path, 'k') == 'running'
    assert status(tmp_path, 'k') == 'interrupted'  # a 'running' record nobody holds: its process died
    write_record(tmp_path, {'run_key': 'k', 'status': 'done'})
    assert status(tmp_path, 'k') == 'stale'  # done, but no weights.pth (an older harness's run): retrained
    (tmp_path / 'weights.pth').write_bytes(b'')
    assert status(tmp_path, 'k') == 'done'
    with pytest.raises(Exception, match='holds a different run'):
        status(tmp_path, 'other')


def test_rows_merge_in_first_seen_order():
    assert merge_rows({'rows': ['a/1', 'b/2']}, ['b/2', 'c/3']) == ['a/1', 'b/2', 'c/3']
    assert merge_rows(None, ['x']) == ['x']


@pytest.mark.slow
def test_a_killed_run_resumes_and_loses_nothing(tmp_path):
    """SIGKILL a training process after its first epoch's checkpoint; the rerun resumes it once, to the end."""
    args = FAST + ['train_cfg.max_epochs=3']
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    proc = subprocess.Popen([PYTHON, '-m', 'repro.train', GFL, *args, '--profile', 'tiny', '--work-dir',
                             str(tmp_path)], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    # mmengine names the checkpoint in last_checkpoint once it is written: a kill before that restarts from scratch
    while not (tmp_path / 'last_checkpoint').exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, 'the run ended before it could be killed'
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    record = json.loads((tmp_path / RESULT_FILE).read_text())
    assert record['status'] == 'running' and status(tmp_path, record['run_key']) == 'interrupted'
    result = train(REPO / GFL, args, profile='tiny', work_dir=tmp_path, rows=['crosskd:table1/student'])
    assert result['status'] == 'done' and result['rows'] == ['crosskd:table1/student']
    logs = '\n'.join(p.read_text() for p in tmp_path.glob('*/*.log'))
    assert 'resumed epoch: 1' in logs or 'resumed epoch: 2' in logs
    assert sorted(p.name for p in tmp_path.glob('epoch_*.pth'))[-1] == 'epoch_3.pth'
    assert json.loads((tmp_path / RESULT_FILE).read_text()) == json.loads(json.dumps(result, default=str))


def test_a_waiting_claim_gets_the_lock_once_the_holder_lets_go(tmp_path):
    import threading
    held = threading.Event()

    def holder():
        with claim(tmp_path):
            held.set()
            time.sleep(1.0)
            write_record(tmp_path, {'run_key': 'k', 'status': 'done'})
            (tmp_path / 'weights.pth').write_bytes(b'')

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait()
    start = time.time()
    with claim(tmp_path, wait=True):
        assert time.time() - start > 0.5 and status(tmp_path, 'k') == 'done'
    thread.join()


@pytest.mark.slow
@pytest.mark.parametrize('group', [False, True], ids=['the-process', 'its-process-group'])
def test_sigterm_stops_a_run_cleanly_and_the_rerun_resumes_it(tmp_path, group):
    """SIGTERM (kill, a scheduler) outside Slurm: the record says interrupted and why, no temporary file is left,
    the lock is free, and the next attempt resumes from the last checkpoint. Sent to the whole process group
    (`kill -- -PGID`), it also kills the DataLoader worker, and PyTorch reports the worker's death as a
    RuntimeError: that recorded the run as failed, with a traceback, before repro.cli.as_stop."""
    args = FAST + ['train_cfg.max_epochs=3']
    if group:
        args += ['train_dataloader.num_workers=1', 'train_dataloader.persistent_workers=True']
    proc = subprocess.Popen([PYTHON, '-m', 'repro.train', GFL, *args, '--profile', 'tiny', '--work-dir',
                             str(tmp_path)], cwd=REPO, env={**os.environ, 'OMP_NUM_THREADS': '1'},
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.time() + 300
    while not (tmp_path / 'last_checkpoint').exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.2)
    assert proc.poll() is None, 'the run ended before it could be stopped'
    if group:
        os.killpg(proc.pid, signal.SIGTERM)
    else:
        proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and 'stopped by SIGTERM; rerun the same command to resume' in err
    assert 'Traceback' not in err, err[-2000:]
    record = json.loads((tmp_path / RESULT_FILE).read_text())
    assert record['status'] == 'interrupted' and 'SIGTERM' in record['reason']
    assert status(tmp_path, record['run_key']) == 'interrupted' and not is_locked(tmp_path)
    assert not list(tmp_path.glob('.*.tmp'))
    if group:  # the rerun is the same as after a SIGTERM to the process alone
        return
    result = train(REPO / GFL, args, profile='tiny', work_dir=tmp_path)
    assert result['status'] == 'done'
    assert 'resumed epoch' in '\n'.join(p.read_text() for p in tmp_path.glob('*/*.log'))


def test_a_table_stops_when_told_to_even_if_the_run_ends_with_another_error(monkeypatch, tmp_path):
    """A run that raises once a SIGTERM has arrived (the DataLoader race above) stops the table, in place of being
    counted as failed and followed by the next run."""
    from types import SimpleNamespace

    from repro import cli
    from repro.runs import launch, lifecycle

    def train(*args, **kwargs):
        raise RuntimeError('DataLoader worker (pid 1) is killed by signal: Terminated.')

    monkeypatch.setattr(lifecycle, 'train', train)
    run = SimpleNamespace(config=GFL, overrides=(), seed=0, work_dir=tmp_path, rows=(), role='student',
                          evaluate_from=None, name='gfl_r50')
    board = SimpleNamespace(print=print)
    assert launch._train_here(run, 'tiny', None, 'disabled', board) == 'failed'  # no SIGTERM: a failure
    monkeypatch.setattr(cli, '_terminated', True)  # what repro.cli's SIGTERM handler sets
    with pytest.raises(cli.Terminated) as caught:
        launch._train_here(run, 'tiny', None, 'disabled', board)
    assert isinstance(caught.value.__cause__, RuntimeError)
