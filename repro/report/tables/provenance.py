"""A table's provenance, for its footer: the runs behind it (keys, configs, seeds, states, W&B runs) and the
commits, package versions and hardware their records hold (repro.training.provenance wrote them at the end of training).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from repro.report.tables.results import RunState, run_state
from repro.runs.store import cpu_of


@dataclass
class RunLine:
    key: str
    config: str
    seed: int
    role: str
    state: str
    rows: list[str]
    wandb: str | None  # a W&B run URL, or the folder of an offline run; None where W&B was off
    cpu: str | None = None  # the CPU model its record was measured on


@dataclass
class TableProvenance:
    runs: list[RunLine]
    commits: list[str]  # distinct, in run order
    packages: list[dict[str, str]]  # distinct version sets
    hardware: list[dict]  # distinct
    spec: str  # 'crosskd_table1.yaml, version 1'
    report_run: str | None = None  # the W&B report run (URL or offline folder), set once logged
    extra: dict = field(default_factory=dict)


def wandb_location(work_dir: str | Path, run_key: str) -> str | None:
    """Where a training run's W&B data is: its URL if it synced online (from W&B's own log), else the offline
    run folder (newest first); None when the run logged nothing to W&B."""
    root = Path(work_dir) / 'wandb'
    if not root.is_dir():
        return None
    folders = sorted(root.glob(f'*run-*-{run_key}'), key=lambda p: p.stat().st_mtime, reverse=True)
    for folder in folders:
        if folder.name.startswith('run-'):  # online (or synced) runs
            for log in folder.glob('logs/debug*.log'):
                found = re.search(rf'https?://\S+/runs/{re.escape(run_key)}\b', log.read_text(errors='replace'))
                if found:
                    return found.group(0)
    return str(folders[0]) if folders else None


def _distinct(values: list) -> list:
    seen, out = set(), []
    for value in values:
        key = json.dumps(value, sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def table_provenance(spec, runs, states: dict[str, RunState] | None = None) -> TableProvenance:
    """Provenance of every planned run of a table (teachers included); `states` reuses records already read."""
    states = states or {}
    lines, records = [], []
    for run in runs:
        state = states.get(run.key) or run_state(run)
        record = state.record or {}
        if record:
            records.append(record)
        rows = [r.rpartition('/')[2] for r in run.rows if r.rpartition('/')[0] == spec.id]
        lines.append(RunLine(run.key, run.config, run.seed, run.role, state.state, rows,
                             wandb_location(run.work_dir, run.key), cpu_of(record)))
    done = [r for r in records if r.get('status') == 'done']
    return TableProvenance(
        runs=lines,
        commits=_distinct([r['git_commit'] for r in done if r.get('git_commit')]),
        packages=_distinct([r['packages'] for r in done if r.get('packages')]),
        hardware=_distinct([r['hardware'] for r in done if r.get('hardware')]),
        spec=f'{spec.path.name}, version {spec.version}')
