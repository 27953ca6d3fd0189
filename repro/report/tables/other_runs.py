"""Finished runs of a row's run config in the store that its table's plan does not name (another seed, left by
`repro.train CONFIG --seed 3` or an earlier `repro.run --seeds 4`): never averaged in, only named in a footnote.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from repro.profiles import REPO_ROOT
from repro.runs.store import RESULT_FILE, finished, work_dirs_root


@dataclass(frozen=True)
class OtherRun:
    key: str
    seed: int
    work_dir: str


def _config_path(config: str) -> Path:
    path = Path(config)
    return (path if path.is_absolute() else REPO_ROOT / path).resolve()


def _finished_records(profile: str, stem: str):
    """(work dir, record) of every finished run of configs named `stem` in the store; unreadable records are
    skipped (they belong to no plan of this report)."""
    for path in sorted((work_dirs_root() / profile).glob(f'{stem}-*/{RESULT_FILE}')):
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if isinstance(record, dict) and finished(path.parent, record):
            yield path.parent, record


def other_runs(spec, runs, profile: str) -> dict[str, list[OtherRun]]:
    """Row id -> the finished runs in the store of the row's config and overrides (and profile) under a seed the
    plan `runs` does not give the row, by seed."""
    planned = {run.key for run in runs}
    rows: dict[tuple, list[str]] = {}  # (config, overrides, evaluates) -> row ids
    seeds: dict[str, set[int]] = {}  # row id -> planned seeds
    for run in runs:
        for served in run.rows:
            table, _, row_id = served.rpartition('/')
            if table == spec.id:
                ident = (_config_path(run.config), tuple(run.overrides), bool(run.evaluate_from))
                rows.setdefault(ident, []).append(row_id)
                seeds.setdefault(row_id, set()).add(run.seed)
    found: dict[str, dict[str, OtherRun]] = {}
    for (config, overrides, evaluates), row_ids in rows.items():
        for work_dir, record in _finished_records(profile, config.stem):
            key, seed = record.get('run_key'), record.get('seed')
            if (key in planned or not isinstance(seed, int) or record.get('profile') != profile
                    or _config_path(str(record.get('config'))) != config
                    or tuple(record.get('overrides') or ()) != overrides
                    or bool(record.get('evaluated_from')) != evaluates):
                continue
            for row_id in dict.fromkeys(row_ids):
                if seed not in seeds[row_id]:
                    found.setdefault(row_id, {}).setdefault(key, OtherRun(key, seed, str(work_dir)))
    return {row_id: sorted(by_key.values(), key=lambda r: (r.seed, r.key)) for row_id, by_key in found.items()}
