"""A run key fixes the run's bits: the same weights and metrics alone, repeated, under another ambient
OMP_NUM_THREADS, and as `repro.run --jobs 2` launches it (repro.training.provenance.pinned, repro.plan.compile)."""
import json
import os
import subprocess
from types import SimpleNamespace

import pytest
import torch

from conftest import FAST, PYTHON, REPO
from repro.training.checkpoint import load_checkpoint_file
from repro.errors import ReproError
from repro.runs.launch import run_env, run_local
from repro.plan.compile import TORCH_THREADS, WEIGHTS_FILE, compile_config, torch_threads
from repro.plan.dag import PlannedRun
from repro.profiles import CONFIG_DIR
from repro.training.provenance import determinism, pinned, warn_only
from repro.runs.lifecycle import train
from repro.runs.store import RESULT_FILE

GFL = CONFIG_DIR / 'detectors/gfl_r50.py'
RUN = FAST + ['train_cfg.max_epochs=1']  # 4 iterations: enough for another thread count to change the bits
# a thread count other than this process's (OMP_NUM_THREADS=1 under `make test`): without the pin it changes the bits
OTHER_THREADS = '2' if torch.get_num_threads() != 2 else '3'


def test_runs_are_deterministic_with_the_default_threads_in_the_key():
    cfg = compile_config(GFL, 'tiny', FAST).cfg
    assert cfg.randomness == dict(seed=0, deterministic=True) and cfg.env_cfg.torch_threads == TORCH_THREADS == 1
    assert compile_config(GFL, 'tiny', FAST + ['env_cfg.torch_threads=2']).run_key != compile_config(
        GFL, 'tiny', FAST).run_key


@pytest.mark.parametrize('value', ['0', '-1', '1.5', 'two', 'True'])
def test_a_bad_thread_count_is_a_one_line_error(value):
    with pytest.raises(ReproError, match=r'^env_cfg.torch_threads is .*: give a positive whole number') as err:
        compile_config(GFL, 'tiny', [f'env_cfg.torch_threads={value}'])
    assert '\n' not in str(err.value)
    with pytest.raises(ReproError, match='env_cfg.torch_threads'):
        torch_threads([f'env_cfg.torch_threads={value}'])


def test_launched_processes_get_the_runs_threads_not_the_shells(monkeypatch, tmp_path):
    monkeypatch.setenv('OMP_NUM_THREADS', '7')
    monkeypatch.delenv('MKL_NUM_THREADS', raising=False)
    run = PlannedRun('k', str(GFL), ('env_cfg.torch_threads=4', 'env_cfg.torch_threads=3'), 0, 'student', tmp_path)
    assert {run_env(run)[v] for v in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')} == {'3'}  # the last override wins
    assert run_env(PlannedRun('k', str(GFL), (), 0, 'student', tmp_path))['OMP_NUM_THREADS'] == str(TORCH_THREADS)


def test_pinned_sets_and_restores_threads_and_records_ops_without_a_deterministic_kernel(monkeypatch):
    monkeypatch.setenv('OMP_NUM_THREADS', '5')
    threads, mode = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    with pinned(2) as alerts:
        warn_only()
        assert torch.get_num_threads() == 2 and os.environ['OMP_NUM_THREADS'] == '2'
        torch.zeros(3).put_(torch.tensor([0]), torch.tensor([1.0]))  # put_ has no deterministic kernel
    assert alerts == {'put_'}
    assert torch.get_num_threads() == threads and torch.are_deterministic_algorithms_enabled() == mode
    assert os.environ['OMP_NUM_THREADS'] == '5'


def test_the_record_names_mmcv_cuda_ops_without_a_deterministic_backward():
    from mmcv.ops import DeformConv2dPack, RoIAlign
    modules = [RoIAlign(7), DeformConv2dPack(4, 4, 3), torch.nn.Conv2d(4, 4, 3)]
    cuda = SimpleNamespace(device=SimpleNamespace(type='cuda'))
    model = SimpleNamespace(parameters=lambda: iter([cuda]), modules=lambda: modules)
    assert determinism(model, 1, {'nll_loss2d_forward_out_cuda_template'}) == {
        'mode': 'deterministic', 'device': 'cuda', 'torch_threads': 1,
        'nondeterministic_ops': ['DeformConv2d', 'RoIAlign', 'nll_loss2d_forward_out_cuda_template'],
        'cpu_capability': torch.backends.cpu.get_cpu_capability()}
    assert determinism(torch.nn.Conv2d(4, 4, 3), 1, set())['nondeterministic_ops'] == []


def _weights(work_dir):
    return load_checkpoint_file(work_dir / WEIGHTS_FILE)['state_dict']


def assert_same_run(a, b):
    """Same record numbers and bit-identical final weights (every tensor, exactly)."""
    ra, rb = (json.loads((d / RESULT_FILE).read_text()) for d in (a, b))
    assert ra['run_key'] == rb['run_key'] and ra['metrics'] == rb['metrics']
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    differ = [k for k in wa if wa[k].dtype != wb[k].dtype or not torch.equal(wa[k], wb[k])]
    assert not differ, f'{len(differ)} of {len(wa)} tensors differ, e.g. {differ[:3]}'


def _planned(tmp_path, name, seed=0) -> PlannedRun:
    compiled = compile_config(GFL, 'tiny', RUN, seed=seed)
    return PlannedRun(compiled.run_key, str(GFL), tuple(RUN), seed, 'student', tmp_path / name, compiled)


@pytest.fixture(scope='module')
def reference(tmp_path_factory):
    """The run as `repro.run --jobs 1` trains it: in this process."""
    tmp_path = tmp_path_factory.mktemp('determinism')
    run = _planned(tmp_path, 'jobs1')
    assert run_local([run], 'tiny', jobs=1, wandb='disabled') == {run.key: 'done'}
    return run.work_dir


@pytest.mark.slow
def test_a_repeated_run_is_bit_identical_and_records_its_determinism(reference, tmp_path):
    threads, mode = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    train(GFL, RUN, profile='tiny', work_dir=tmp_path)
    assert_same_run(reference, tmp_path)
    record = json.loads((tmp_path / RESULT_FILE).read_text())
    assert record['determinism'] == {'mode': 'deterministic', 'device': 'cpu', 'torch_threads': 1,
                                     'nondeterministic_ops': [],
                                     'cpu_capability': torch.backends.cpu.get_cpu_capability()}
    assert record['determinism']['cpu_capability'] != 'AVX512'
    assert record['hardware']['torch_threads'] == 1
    assert torch.get_num_threads() == threads and torch.are_deterministic_algorithms_enabled() == mode


@pytest.mark.slow
def test_another_ambient_omp_num_threads_gives_the_same_run(reference, tmp_path):
    env = {**os.environ, 'OMP_NUM_THREADS': OTHER_THREADS, 'MKL_NUM_THREADS': OTHER_THREADS}
    proc = subprocess.run([PYTHON, '-m', 'repro.train', str(GFL), *RUN, '--profile', 'tiny', '--work-dir',
                           str(tmp_path)], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert_same_run(reference, tmp_path)


@pytest.mark.slow
def test_jobs_2_gives_the_same_run_as_jobs_1(reference, tmp_path, monkeypatch):
    """Two `repro.train` processes at once, as `repro.run --jobs 2` starts them, from a shell with other threads."""
    monkeypatch.setenv('OMP_NUM_THREADS', OTHER_THREADS)
    runs = [_planned(tmp_path, 'same'), _planned(tmp_path, 'neighbour', seed=1)]
    assert run_local(runs, 'tiny', jobs=2, wandb='disabled') == {r.key: 'done' for r in runs}
    assert_same_run(reference, runs[0].work_dir)


def test_the_harness_caps_torchs_cpu_kernels_at_avx2_unless_told_otherwise():
    """AVX-512 kernels sum in another order: a process that imports repro first runs AVX2 ones (DEFAULT on a CPU
    without AVX2), and a capability the user sets is kept."""
    probe = 'import repro, torch; print(torch.backends.cpu.get_cpu_capability())'
    env = {k: v for k, v in os.environ.items() if k not in ('ATEN_CPU_CAPABILITY', 'ONEDNN_MAX_CPU_ISA')}
    out = subprocess.run([PYTHON, '-c', probe], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() in ('AVX2', 'DEFAULT'), out.stderr[-1000:]
    out = subprocess.run([PYTHON, '-c', probe], env={**env, 'ATEN_CPU_CAPABILITY': 'default'}, capture_output=True,
                         text=True, timeout=120)
    assert out.stdout.strip() == 'DEFAULT', out.stderr[-1000:]
