"""Shared fixtures: an isolated cache for generated data, and the overrides that make a tiny run take seconds."""
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import pytest

# Generated datasets go to a per-session cache, never to the user's ~/.cache/repro.
os.environ.setdefault('REPRO_CACHE', tempfile.mkdtemp(prefix='repro-test-cache-'))
os.environ.setdefault('REPRO_WORK_DIRS', tempfile.mkdtemp(prefix='repro-test-work-dirs-'))
os.environ.setdefault('REPRO_REPORTS', tempfile.mkdtemp(prefix='repro-test-reports-'))  # not the repo's reports/
os.environ.setdefault('REPRO_WANDB', 'disabled')  # W&B's own tests turn it on (offline)
# Checkpoints named by URL are looked up in a per-session folder and never downloaded (repro/weights.py).
os.environ.setdefault('REPRO_WEIGHTS', tempfile.mkdtemp(prefix='repro-test-weights-'))
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


def folder_digest(folder: Path) -> str:
    """sha256 over a folder's file names and bytes: equal digests mean byte-identical trees."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob('*') if p.is_file()):
        h.update(path.relative_to(folder).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def pytest_collection_modifyitems(config, items):
    """Slow tests first (a stable sort, the same order in every xdist worker): the real-size ones take minutes, and
    started last they would run alone at the end while the other worker idles."""
    items.sort(key=lambda item: item.get_closest_marker('slow') is None)
