"""Where a result came from: git commit, package versions and hardware."""
from __future__ import annotations

import platform
import subprocess
from importlib import metadata

from repro.profiles import REPO_ROOT

PACKAGES = ('torch', 'mmcv', 'mmdet', 'mmengine', 'pycocotools', 'faster-coco-eval', 'numpy', 'wandb', 'repro')


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
    import os

    import torch
    info = {'machine': platform.machine(), 'python': platform.python_version(), 'cpus': os.cpu_count(),
            'torch_threads': torch.get_num_threads(), 'gpus': torch.cuda.device_count()}
    if info['gpus']:
        info['gpu_name'] = torch.cuda.get_device_name(0)
    return info


def provenance() -> dict[str, object]:
    return {'git_commit': git_commit(), 'packages': package_versions(), 'hardware': hardware()}
