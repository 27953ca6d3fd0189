"""Plans kept on disk, so that `--dry-run` imports neither torch nor mmengine for a table planned before.

Planning compiles every row's config with mmengine (seconds per table); a plan depends only on the table's rows,
the profile, seeds and data root, the files under configs/, the harness's own code, the installed mmdet and
mmengine, and the REPRO_* environment variables. The cache file is named by a hash of all of them, so a change
to any one plans afresh. A cached plan has no compiled configs: it is for printing, never for training.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from repro.runs.atomic import atomic_write_json
from repro.profiles import CONFIG_DIR, REPO_ROOT, cache_root

CODE_DIR = REPO_ROOT / 'repro'
FIELDS = ('key', 'config', 'overrides', 'seed', 'role', 'work_dir', 'rows', 'needs', 'evaluate_from', 'gpu_hours',
          'dataset')


def plan_for(spec, profile: str, seeds: int, data_root: str | None, dry_run: bool) -> list:
    """The runs of a table: to print (dry_run: from the cache where it can) or to launch (compiled, data checked)."""
    if dry_run:
        return cached_plan(spec, profile, seeds, data_root)
    from repro.plan.dag import plan
    return plan(spec, profile, seeds, data_root)


def cached_plan(spec, profile: str, seeds: int = 1, data_root: str | None = None) -> list:
    """repro.plan.dag.plan(spec, profile, seeds, data_root, check_data=False), from the cache where its inputs are
    unchanged (the runs then have compiled=None)."""
    path = cache_root() / 'plans' / f'{inputs_hash(spec, profile, seeds, data_root)}.json'
    try:
        return [_from_json(item) for item in json.loads(path.read_text())]
    except (OSError, ValueError, KeyError, TypeError):  # none yet, or unreadable: plan afresh
        pass
    from repro.plan.dag import plan
    runs = plan(spec, profile, seeds, data_root, check_data=False)
    try:
        atomic_write_json(path, [_to_json(run) for run in runs])
    except Exception:  # noqa: BLE001 - a cache that cannot be written costs time, never the plan
        pass
    return runs


def inputs_hash(spec, profile: str, seeds: int, data_root: str | None) -> str:
    digest = hashlib.sha256()
    rows = [(row.id, row.role, row.run) for row in spec.rows]
    env = sorted((k, v) for k, v in os.environ.items() if k.startswith('REPRO_'))
    digest.update(repr((spec.id, rows, profile, seeds, data_root, env, str(REPO_ROOT))).encode())
    digest.update(_package_version('mmdet') + b'\0' + _package_version('mmengine') + b'\0')
    for root, pattern in ((CONFIG_DIR, '*.py'), (CODE_DIR, '*.py')):
        for file in sorted(root.rglob(pattern)):
            digest.update(f'{root.name}/{file.relative_to(root)}'.encode() + b'\0' + file.read_bytes() + b'\0')
    return digest.hexdigest()[:20]


def _package_version(name: str) -> bytes:
    """The installed package's version.py (mmdet's and mmengine's hold their version), found without importing."""
    from importlib.util import find_spec
    spec = find_spec(name)
    if spec is None or not spec.origin:
        return b''
    try:
        return (Path(spec.origin).parent / 'version.py').read_bytes()
    except OSError:
        return spec.origin.encode()


def _to_json(run) -> dict:
    return {name: str(value) if isinstance(value, Path) else value
            for name, value in ((name, getattr(run, name)) for name in FIELDS)}


def _from_json(item: dict):
    from repro.plan.dag import PlannedRun
    return PlannedRun(**{**{name: item[name] for name in FIELDS}, 'overrides': tuple(item['overrides']),
                         'work_dir': Path(item['work_dir'])})
