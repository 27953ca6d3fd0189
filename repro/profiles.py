"""Profiles: `tiny` (embedded synthetic data, CPU-sized) and `coco` (the papers' setup).

A profile is a config file under configs/profiles/ holding an `overrides` dict that is merged over a model
config, plus a few settings the bridge applies (data root, widths). This module only finds and checks them;
repro.plan.compile applies them.
"""
from __future__ import annotations

import os
from pathlib import Path

from repro.errors import ReproError

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = REPO_ROOT / 'configs'
PROFILES = ('tiny', 'coco')
COCO_LAYOUT = ('annotations/instances_train2017.json', 'annotations/instances_val2017.json', 'train2017',
               'val2017')
# Datasets other than COCO that a config can name (`dataset = dict(name=...)`, configs/datasets/): for the coco
# profile, the variable naming the root (else data/<name> in the repo), what the root must hold and how to get it.
DATASETS = {
    'crowdhuman': dict(
        env='REPRO_CROWDHUMAN_ROOT',
        layout=('annotations/crowdhuman_train.json', 'annotations/crowdhuman_val.json', 'Images'),
        howto='Download CrowdHuman_train01-03.zip and CrowdHuman_val.zip (unzipped into Images/) and '
              'annotation_train.odgt and annotation_val.odgt from https://www.crowdhuman.org/ into that folder, '
              'then run `python -m repro.data.crowdhuman_root ROOT` to write the COCO-format annotations.'),
}


def repo_relative(path: str | Path) -> str:
    """A path as records and reports show it: relative to the repository where it lies inside it (so a run's record
    reads the same from any clone), else as given."""
    path = Path(path)
    resolved = (path if path.is_absolute() else Path.cwd() / path).resolve()
    return resolved.relative_to(REPO_ROOT).as_posix() if resolved.is_relative_to(REPO_ROOT) else str(path)


def cache_root() -> Path:
    """Where the harness caches what it can make again (synthetic datasets, plans; checkpoints: repro.training.weights):
    $REPRO_CACHE, default ~/.cache/repro."""
    return Path(os.environ.get('REPRO_CACHE') or Path.home() / '.cache' / 'repro')


REPORTS_ENV = 'REPRO_REPORTS'  # the reports root (default: reports/ in the repo); one folder per profile under it


def default_report_dir(profile: str) -> Path:
    return Path(os.environ.get(REPORTS_ENV) or REPO_ROOT / 'reports') / profile


def profile_file(name: str) -> Path:
    if name not in PROFILES:
        raise ReproError(f"unknown profile '{name}': choose one of {', '.join(PROFILES)}")
    return CONFIG_DIR / 'profiles' / f'{name}.py'


def coco_root(explicit: str | None = None) -> Path:
    """The COCO root: --data-root, else $REPRO_COCO_ROOT, else data/coco in the repo."""
    return Path(explicit or os.environ.get('REPRO_COCO_ROOT') or REPO_ROOT / 'data' / 'coco')


def dataset_root(name: str, explicit: str | None = None) -> Path:
    """The root of a dataset of DATASETS: --data-root, else its environment variable, else data/<name>."""
    if name not in DATASETS:
        raise ReproError(f"unknown dataset '{name}' in the config's `dataset`: choose one of {', '.join(DATASETS)}")
    return Path(explicit or os.environ.get(DATASETS[name]['env']) or REPO_ROOT / 'data' / name)


def check_dataset_root(name: str, root: Path) -> None:
    spec = DATASETS[name]
    missing = [part for part in spec['layout'] if not (root / part).exists()]
    if missing:
        raise ReproError(f"{name} at {root} is missing {', '.join(missing)}. {spec['howto']} Pass --data-root DIR "
                         f"(or set {spec['env']}), or use --profile tiny for its synthetic stand-in")
    check_readable(root, spec['layout'])


def choose_profile(profile: str | None, data_root: str | None = None) -> tuple[str, str | None]:
    """The profile of a run: --profile; else `coco` with --data-root; else `coco` when a complete COCO is at the
    default root ($REPRO_COCO_ROOT, else data/coco) and `tiny` otherwise. A --data-root that is no folder is an
    error. Returns the profile and, when it was chosen automatically, a note saying which and why (for stderr)."""
    if data_root and not Path(data_root).is_dir():
        raise ReproError(f'--data-root {data_root}: no such folder; pass the root of the dataset (COCO 2017: '
                         f"{', '.join(COCO_LAYOUT)}), or leave --data-root out for the tiny profile")
    if profile or data_root:
        return profile or 'coco', None
    root = coco_root()
    if missing_coco_parts(root):
        return 'tiny', (f"profile tiny (no COCO found at {root}; pass --profile coco --data-root DIR for the papers' "
                        'setup)')
    return 'coco', f'profile coco (COCO 2017 found at {root}; pass --profile tiny for the synthetic stand-in)'


def default_profile(data_root: str | None = None) -> str:
    """The profile `choose_profile` picks when none is given."""
    return choose_profile(None, data_root)[0]


def missing_coco_parts(root: Path) -> list[str]:
    return [part for part in COCO_LAYOUT if not (root / part).exists()]


def check_coco_root(root: Path) -> None:
    missing = missing_coco_parts(root)
    if missing:
        what = (f"no COCO 2017 at {root}: expected {', '.join(COCO_LAYOUT)} there" if len(missing) == len(COCO_LAYOUT)
                else f"COCO 2017 at {root} is incomplete: missing {', '.join(missing)}")
        raise ReproError(f'{what}. Pass --data-root DIR (or set REPRO_COCO_ROOT), '
                         'or use --profile tiny for the embedded synthetic dataset')
    check_readable(root, COCO_LAYOUT)


def check_readable(root: Path, parts) -> None:
    """Each part of a dataset root (folders of images, annotation files) is readable by this user, and each JSON
    annotation file looks whole: it starts with '{' and ends with '}' (a download cut short does not). Reads a few
    bytes of each, not the file: COCO's train annotations are 450 MB."""
    for part in parts:
        path = root / part
        if not os.access(path, os.R_OK | (os.X_OK if path.is_dir() else 0)):
            raise ReproError(f'{path}: not readable by this user; fix its permissions or pass another --data-root')
        if path.suffix == '.json':
            with path.open('rb') as f:
                head = f.read(64).lstrip()[:1]
                f.seek(max(0, path.stat().st_size - 64))
                tail = f.read().rstrip()[-1:]
            if (head, tail) != (b'{', b'}'):
                raise ReproError(f'{path}: not a complete JSON annotation file (it should start with {{ and end with '
                                 '}); download or convert it again')
