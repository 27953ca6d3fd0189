"""The seeds a table's report covers: those `repro.run` last ran the table with, unless `repro.report --seeds N`
names them (seeds 0..N-1), and seed 0 alone where neither says. A report averages exactly these runs of its rows,
whatever else the results store holds.

`repro.run` records a table's plan per profile in the store: <work dirs>/<profile>/tables/<table file stem>.json,
beside the runs it names (written atomically).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from repro.errors import ReproError
from repro.runs.atomic import atomic_write_json
from repro.runs.store import work_dirs_root

PLANS_DIR = 'tables'  # under <work dirs>/<profile>/; run work dirs there are <config>-<key>, never this name


@dataclass(frozen=True)
class SeedPlan:
    count: int  # seeds 0..count-1
    source: str  # why these seeds, ending a sentence: 'as asked with --seeds 3'

    @property
    def seeds(self) -> list[int]:
        return list(range(self.count))

    def sentence(self) -> str:
        return f'Each row is the mean over {seeds_text(self.seeds)}, {self.source}; no other run is averaged in.'


def seeds_text(seeds) -> str:
    """'seed 0', 'seeds 0, 1, 2'."""
    seeds = list(seeds)
    return ('seed ' if len(seeds) == 1 else 'seeds ') + ', '.join(str(s) for s in seeds)


def seed_count(text: str) -> int:
    """argparse type of --seeds: a positive number (a ReproError, so the CLI says so in one line)."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise ReproError(f'--seeds takes a positive number of seeds, e.g. 3 for seeds 0, 1, 2 (got {text!r})')
    return count


def plan_record_path(spec, profile: str) -> Path:
    return work_dirs_root() / profile / PLANS_DIR / f'{spec.path.stem}.json'


def record_plan(spec, profile: str, seeds: int) -> SeedPlan:
    """Record that `repro.run` runs the table with seeds 0..seeds-1 under `profile`; returns that plan."""
    when = time.strftime('%Y-%m-%d %H:%M')
    atomic_write_json(plan_record_path(spec, profile), {'table': spec.id, 'spec': spec.path.name, 'profile': profile,
                                                        'seeds': list(range(seeds)), 'recorded': when})
    return SeedPlan(seeds, f'as repro.run ran this table ({when})')


def recorded_plan(spec, profile: str) -> SeedPlan | None:
    """The plan `repro.run` last ran the table with under `profile`, None where it never ran it."""
    path = plan_record_path(spec, profile)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        seeds = data['seeds']
        valid = isinstance(seeds, list) and seeds == list(range(len(seeds))) and seeds
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
        raise ReproError(f'cannot read the plan record {path}: {err}; pass --seeds N, or rerun repro.run') from err
    if not valid:
        raise ReproError(f'the plan record {path} holds seeds {seeds!r}, not 0..N-1; pass --seeds N, or rerun '
                         'repro.run')
    return SeedPlan(len(seeds), f"as repro.run last ran this table ({data.get('recorded', 'time not recorded')})")


def seed_plan(spec, profile: str, seeds: int | None) -> tuple[SeedPlan, str | None]:
    """The seeds to report: --seeds, else the recorded plan, else seed 0; with a note when it fell to seed 0."""
    if seeds is not None:
        return SeedPlan(seeds, f'as asked with --seeds {seeds}'), None
    recorded = recorded_plan(spec, profile)
    if recorded is not None:
        return recorded, None
    note = (f'{spec.id} has no plan recorded by repro.run under the {profile} profile: reporting seed 0 only '
            '(pass --seeds N for seeds 0..N-1)')
    return SeedPlan(1, 'the default (no --seeds, and repro.run has not run this table)'), note
