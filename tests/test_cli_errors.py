"""User mistakes end in one line on stderr and exit code 2, never a traceback."""
import shutil
import subprocess

import pytest
import torch

from conftest import PYTHON, REPO


def run(*args):
    return subprocess.run([PYTHON, '-m', *args], cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize('args, message', [
    (('repro.train', 'configs/detectors/missing.py'), 'error: config not found: configs/detectors/missing.py'),
    (('repro.train', 'configs/detectors/gfl_r50.py', 'model.backbone.dpeth=18'),
     "error: unknown override key 'model.backbone.dpeth'"),
    (('repro.train', 'configs/detectors/gfl_r50.py', '--profile', 'coco', '--data-root', '/nonexistent/coco'),
     'error: --data-root /nonexistent/coco: no such folder'),
    (('repro.train', 'configs/methods/crosskd_gfl.py', '--evaluate-from', 'w.pth'),
     'error: crosskd_gfl.py is a distillation config: evaluate a checkpoint with the config of its detector'),
    (('repro.train', 'configs/detectors/gfl_r50.py', '--evaluate-from', '/nonexistent/w.pth'),
     'error: checkpoint not found: /nonexistent/w.pth'),
    (('repro.run', 'no/such/crosskd_table1.yaml'), 'error: table spec file not found: no/such/crosskd_table1.yaml'),
    pytest.param(('repro.run', 'crosskd:table1', '--profile', 'tiny', '--launcher', 'torchrun', '--gpus', '2'),
                 'error: --launcher torchrun --gpus 2 needs 2 CUDA GPUs on this machine, which has 0',
                 marks=pytest.mark.skipif(torch.cuda.is_available(), reason='a machine without GPUs shows it')),
    pytest.param(('repro.run', 'crosskd:table1', '--profile', 'tiny', '--launcher', 'slurm'),
                 'error: --launcher slurm: no Slurm on this machine (sbatch is not on PATH)',
                 marks=pytest.mark.skipif(bool(shutil.which('sbatch')), reason='a machine without Slurm shows it')),
])
def test_train_errors_are_one_line(args, message):
    proc = run(*args)
    assert proc.returncode == 2
    assert 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr


def test_run_lists_tables():
    proc = run('repro.run', '--list')
    assert proc.returncode == 0, proc.stderr


SIGTERM_WITH_A_CHILD_DEAD = """
import os, signal
from repro import cli
signal.signal(signal.SIGTERM, cli._terminate)
signal.signal(signal.SIGCHLD, lambda *args: None)  # PyTorch's DataLoader installs a SIGCHLD handler
both = {signal.SIGTERM, signal.SIGCHLD}
signal.pthread_sigmask(signal.SIG_BLOCK, both)
os.kill(os.getpid(), signal.SIGCHLD)  # a worker killed with its process group: both signals pending at once
os.kill(os.getpid(), signal.SIGTERM)
try:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, both)
    sum(range(1000))
except cli.Terminated:
    print('stopped')
sum(range(1000))  # Python runs the SIGCHLD still pending here, after the SIGTERM handler changed it
"""


def test_sigterm_with_a_sigchld_pending_stops_without_a_message():
    """`kill -- -PGID` delivers SIGTERM and the DataLoader worker's SIGCHLD together. The SIGTERM handler must leave
    a Python handler for SIGCHLD: with SIG_DFL, CPython prints 'OSError: Signal 17 ignored due to race condition'
    with a traceback when it comes to the pending SIGCHLD."""
    proc = subprocess.run([PYTHON, '-c', SIGTERM_WITH_A_CHILD_DEAD], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0 and proc.stdout == 'stopped\n', proc.stderr
    assert proc.stderr == '', proc.stderr
