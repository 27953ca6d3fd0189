"""Where a result came from: git commit, package versions, hardware, and the determinism it ran under."""
from __future__ import annotations

import os
import platform
import re
import subprocess
import warnings
from contextlib import contextmanager
from importlib import metadata

from repro.profiles import REPO_ROOT

PACKAGES = ('torch', 'mmcv', 'mmdet', 'mmengine', 'pycocotools', 'faster-coco-eval', 'numpy', 'wandb', 'repro')
# mmcv ops whose CUDA backward accumulates with atomicAdd and ignores torch's deterministic switch (no alert)
MMCV_NONDETERMINISTIC_CUDA = ('RoIAlign', 'RoIPool', 'DeformRoIPool', 'DeformConv2d', 'ModulatedDeformConv2d',
                              'MultiScaleDeformableAttention', 'CARAFENaive')
# torch's warn-only alerts: '<op> does not have a deterministic implementation, ...', or cuBLAS without a workspace
TORCH_ALERT = r'.*(does not have a deterministic implementation|uses CuBLAS)'
ALERT_OP = re.compile(r'(\S+) does not have a deterministic implementation|(CuBLAS)')
THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')


def git_commit() -> str:
    try:
        out = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'], cwd=REPO_ROOT,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ('-dirty' if dirty else '') if out.returncode == 0 else 'unknown'
    except (OSError, subprocess.SubprocessError):
        return 'unknown'


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = 'missing'
    return versions


def hardware() -> dict[str, object]:
    import torch
    info = {'machine': platform.machine(), 'cpu': cpu_model(), 'python': platform.python_version(),
            'cpus': os.cpu_count(), 'torch_threads': torch.get_num_threads(), 'gpus': torch.cuda.device_count()}
    if info['gpus']:
        info['gpu_name'] = torch.cuda.get_device_name(0)
    return info


def cpu_model() -> str:
    try:
        with open('/proc/cpuinfo') as f:
            return next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), 'unknown')
    except OSError:
        return platform.processor() or 'unknown'


def provenance() -> dict[str, object]:
    return {'git_commit': git_commit(), 'packages': package_versions(), 'hardware': hardware()}


def thread_env(threads: int) -> dict[str, str]:
    """The environment of a process that runs with `threads` intra-op threads, whatever the caller's."""
    return {**os.environ, **{var: str(threads) for var in THREAD_VARS}}


@contextmanager
def pinned(threads: int):
    """Run the block with `threads` intra-op threads (torch's, and OpenMP's and MKL's for processes it starts) and
    torch's deterministic algorithms in warn-only mode (mmengine's Runner turns them on strict: call `warn_only()`
    after building it); yields the set of torch ops that warned. The process's own settings come back after."""
    import torch
    before = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled(), {v: os.environ.get(v) for v in THREAD_VARS})
    alerts: set[str] = set()
    if torch.cuda.is_available():  # cuBLAS is deterministic only with a fixed workspace, set before its first use
        os.environ.setdefault('CUBLAS_WORKSPACE_CONFIG', ':4096:8')
    torch.set_num_threads(threads)
    os.environ.update({var: str(threads) for var in THREAD_VARS})
    with warnings.catch_warnings():
        warnings.filterwarnings('always', message=TORCH_ALERT)  # each op, however often it warned before
        show = warnings.showwarning

        def record(message, *args, **kwargs):
            match = ALERT_OP.search(str(message))
            if match:
                alerts.add(match.group(1) or match.group(2))
            else:
                show(message, *args, **kwargs)

        warnings.showwarning = record
        try:
            yield alerts
        finally:
            torch.set_num_threads(before[0])
            torch.use_deterministic_algorithms(before[1], warn_only=before[2])
            for var, value in before[3].items():
                if value is None:
                    os.environ.pop(var, None)
                else:
                    os.environ[var] = value


def warn_only() -> None:
    """torch's deterministic algorithms, an op without one warning (recorded by `pinned`) instead of stopping a run."""
    import torch
    torch.use_deterministic_algorithms(True, warn_only=True)


def determinism(model, threads: int, alerts: set[str]) -> dict[str, object]:
    """The record of how deterministic a run was: mode, device, threads, and the ops it used that are known to be
    nondeterministic on that device (torch's, from their alerts; mmcv's CUDA ops, which raise none, from the model)."""
    device = next(model.parameters()).device.type
    ops = set(alerts)
    if device == 'cuda':
        ops |= {k.__name__ for m in model.modules() for k in type(m).__mro__ if k.__name__ in MMCV_NONDETERMINISTIC_CUDA}
    import torch
    return {'mode': 'deterministic', 'device': device, 'torch_threads': threads, 'nondeterministic_ops': sorted(ops),
            'cpu_capability': torch.backends.cpu.get_cpu_capability()}  # the kernels' ISA (repro/__init__.py)
