"""Shared fixtures: an isolated cache for generated data, and the overrides that make a tiny run take seconds."""
import atexit
import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

import repro  # noqa: F401  before any test imports torch: caps its CPU kernels at AVX2 (repro/__init__.py)


def session_folder(variable: str, prefix: str) -> None:
    """Point `variable` at a new temporary folder unless it is set, and remove that folder when this process exits.
    Under xdist the controller makes it and the workers inherit the variable, so one folder serves the session and
    is removed with it: a suite that left its checkpoints behind filled a CI machine's disk (about 1 GB a run)."""
    if variable not in os.environ:
        os.environ[variable] = folder = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, folder, ignore_errors=True)


# Generated datasets go to a per-session cache, never to the user's ~/.cache/repro.
session_folder('REPRO_CACHE', 'repro-test-cache-')
session_folder('REPRO_WORK_DIRS', 'repro-test-work-dirs-')
session_folder('REPRO_REPORTS', 'repro-test-reports-')  # not the repo's reports/
os.environ.setdefault('REPRO_WANDB', 'disabled')  # W&B's own tests turn it on (offline)
# Checkpoints named by URL are looked up in a per-session folder and never downloaded (repro/training/weights.py).
session_folder('REPRO_WEIGHTS', 'repro-test-weights-')
os.environ.setdefault('REPRO_OFFLINE', '1')
REPO = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

# A tiny-profile run in seconds: a ResNet-18 on 16 train and 16 val images.
FAST = ['model.backbone.depth=18', 'train_dataloader.batch_size=4', '+train_dataloader.dataset.indices=16',
        '+val_dataloader.dataset.indices=16', 'train_dataloader.num_workers=0', 'param_scheduler.0.end=4',
        'train_dataloader.persistent_workers=False', 'default_hooks.logger.interval=1']


@pytest.fixture(scope='session')
def repo() -> Path:
    return REPO


@pytest.fixture(scope='module')
def one_thread():
    """Tiny tensors: one thread is faster, and does not fight a busy machine's other jobs for cores. A module uses
    it with `pytestmark = pytest.mark.usefixtures('one_thread')`."""
    import torch
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def fresh_mmengine_loggers():
    """mmengine's MMLogger binds its stream handler to the sys.stdout of the moment it is made: in pytest, a test's
    capture, closed after it. A later test logging through that instance (get_current_instance) printed a
    `--- Logging error ---` traceback into the stderr a CLI test reads (seen once in test_smoke's one-line errors)."""
    yield
    if 'mmengine.logging' in sys.modules:
        sys.modules['mmengine.logging'].MMLogger._instance_dict.clear()


def folder_digest(folder: Path) -> str:
    """sha256 over a folder's file names and bytes: equal digests mean byte-identical trees."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob('*') if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def pytest_collection_modifyitems(config, items):
    """Order the tests for `make test`'s two xdist workers (`--dist worksteal`, which hands each worker one half of
    this list and lets an idle worker steal from the other's queue): the slow tests at the head of both halves,
    split by their `@pytest.mark.slow(minutes=...)` estimate (default 0.5), so that the real-size ones run side by
    side with the rest of the suite instead of one after the other or alone at the end. A stable order, the same in
    every worker."""
    def minutes(item):
        marker = item.get_closest_marker('slow')
        return None if marker is None else marker.kwargs.get('minutes', 0.5)
    slow = sorted((i for i in items if minutes(i) is not None), key=minutes, reverse=True)
    fast = [i for i in items if minutes(i) is None]
    halves, load = ([], []), [0.0, 0.0]
    for item in slow:  # longest first, each to the lighter half
        lighter = load.index(min(load))
        halves[lighter].append(item)
        load[lighter] += minutes(item)
    cut = len(items) // 2 - len(halves[0])
    items[:] = halves[0] + fast[:cut] + halves[1] + fast[cut:]
