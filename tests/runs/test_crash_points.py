"""Faults at deterministic points of a run, in real subprocesses (tests/runs/killpoints.py plants them): SIGKILL while
writing a checkpoint, during evaluation and while writing the result, and a full disk when writing the result.
After each, the store is readable, the rerun resumes from the last complete checkpoint, and nothing finished is
lost or trained twice."""
import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import FAST, PYTHON, REPO
from repro.runs.store import RESULT_FILE, read_record, status
from repro.runs.lifecycle import train
from repro.training.runner import resume_point

GFL = 'configs/detectors/gfl_r50.py'
ARGS = FAST + ['train_cfg.max_epochs=2', 'train_cfg.val_interval=1']  # an evaluation after each epoch


def faulty_run(point: str, work_dir) -> subprocess.CompletedProcess:
    return subprocess.run([PYTHON, 'tests/runs/killpoints.py', point, GFL, *ARGS, '--profile', 'tiny', '--work-dir',
                           str(work_dir), '--row', 'crosskd:table1/student'], cwd=REPO, capture_output=True,
                          text=True, timeout=600, env={**os.environ, 'OMP_NUM_THREADS': '1'})


def logs(work_dir) -> str:
    return '\n'.join(p.read_text() for p in work_dir.glob('*/*.log'))


def rerun(work_dir) -> dict:
    result = train(REPO / GFL, ARGS, profile='tiny', work_dir=work_dir)
    assert result['status'] == 'done' and result['rows'] == ['crosskd:table1/student']  # the row kept
    assert json.loads((work_dir / RESULT_FILE).read_text())['status'] == 'done'
    assert not list(work_dir.glob('.*.tmp'))  # a dead writer's temporary file is gone
    return result


@pytest.mark.slow
@pytest.mark.parametrize('point, resumed_from', [('checkpoint', 1), ('eval', 1), ('result', 2)])
def test_a_run_killed_at_a_fault_point_resumes_from_its_last_complete_checkpoint(point, resumed_from, tmp_path):
    proc = faulty_run(point, tmp_path)
    assert proc.returncode == -9, proc.stderr[-2000:]  # SIGKILL: nothing of ours ran after it
    record = read_record(tmp_path)  # the store stays readable
    assert record['status'] == 'running' and status(tmp_path, record['run_key']) == 'interrupted'
    if point == 'checkpoint':
        assert (tmp_path / 'epoch_2.pth').stat().st_size < (tmp_path / 'epoch_1.pth').stat().st_size
        assert resume_point(tmp_path).endswith('epoch_1.pth')  # last_checkpoint never names the half-written one
    if point == 'result':
        assert list(tmp_path.glob('.result.json.*.tmp'))  # killed between write and rename
        assert (tmp_path / 'weights.pth').is_file()
    rerun(tmp_path)
    assert f'resumed epoch: {resumed_from}' in logs(tmp_path)
    if point == 'result':  # every epoch was done: the rerun trains nothing, it only evaluates
        assert logs(tmp_path).count('Epoch(train) [2][1/') == 1  # the first attempt's, in its own log


@pytest.mark.slow
def test_a_full_disk_when_writing_the_result_fails_loudly_and_leaves_nothing_half_written(tmp_path):
    proc = faulty_run('full-disk', tmp_path)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == (
        f'error: cannot write {tmp_path / RESULT_FILE}: No space left on device; nothing was written. '
        'Free disk space or choose another --work-dir')
    assert not list(tmp_path.glob('.*.tmp'))
    assert read_record(tmp_path)['status'] == 'running'  # the record before the failed write, whole
    rerun(tmp_path)
    assert 'resumed epoch: 2' in logs(tmp_path)


def test_an_unreadable_last_checkpoint_falls_back_to_the_newest_complete_epoch(tmp_path):
    import torch
    for epoch in (1, 2):
        torch.save({'epoch': epoch}, tmp_path / f'epoch_{epoch}.pth')
    (tmp_path / 'epoch_3.pth').write_bytes((tmp_path / 'epoch_2.pth').read_bytes()[:100])  # cut short by a kill
    assert resume_point(tmp_path) is None  # no last_checkpoint: mmengine never finished one
    (tmp_path / 'last_checkpoint').write_text('')  # killed while mmengine wrote it
    assert resume_point(tmp_path) == str(tmp_path / 'epoch_2.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_1.pth'))
    assert resume_point(tmp_path) == str(tmp_path / 'epoch_1.pth')


def _task_pid(folder) -> int | None:
    """The pid of the submitit task (not its local controller) running a job of `folder`."""
    for proc in Path('/proc').iterdir():
        try:
            cmd = (proc / 'cmdline').read_bytes().replace(b'\0', b' ').decode()
        except OSError:
            continue
        if proc.name.isdigit() and 'submitit.core._submit' in cmd and str(folder) in cmd:
            return int(proc.name)
    return None


@pytest.mark.slow
def test_a_preempted_slurm_job_checkpoints_requeues_and_resumes(tmp_path):
    """submitit's preemption signal (USR2, which Slurm sends ahead of a preemption or time limit) to a running job
    of the Slurm launcher: the job requeues itself (TrainJob is Checkpointable), the requeued job resumes the run
    from its last checkpoint, and the run ends done. Uses submitit's local executor, which restarts requeued jobs."""
    import signal
    import time

    from repro.runs.slurm import TrainJob, slurm_executor
    work_dir = tmp_path / 'run'
    executor = slurm_executor(tmp_path / 'jobs', cluster='local', gpus_per_node=0, time_min=20)
    job = executor.submit(TrainJob(), dict(config=str(REPO / GFL), overrides=FAST + ['train_cfg.max_epochs=3'],
                                           profile='tiny', work_dir=str(work_dir), wandb='disabled'), False)
    deadline = time.time() + 300
    while not (work_dir / 'last_checkpoint').exists() and time.time() < deadline and not job.done():
        time.sleep(0.2)
    assert not job.done(), 'the job ended before it could be preempted'
    os.kill(_task_pid(tmp_path / 'jobs'), signal.SIGUSR2)
    result = job.result()
    assert result['status'] == 'done' and read_record(work_dir)['status'] == 'done'
    job_log = '\n'.join(p.read_text() for p in (tmp_path / 'jobs').rglob('*_log.*'))
    assert 'Requeued job' in job_log
    assert 'resumed epoch' in logs(work_dir)
