"""The measured seed-to-seed noise of a profile: the standard deviation of one run's AP over seeds, pooled over
representative rows, that claim verdicts (repro.report.tables.claims) are judged against.

It is a measurement, not a setting: `python benchmarks/seed_noise.py` computes it from finished runs' records and
writes benchmarks/seed_noise/<profile>.json with the records it used (benchmarks/seed_noise/runs/). It holds while
the profile file is the one it was measured under, or while today's code and profile give every measured run the key
it was recorded with. A profile
that was never measured has no entry, and verdicts then rest on the paired differences alone.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from repro.errors import ReproError
from repro.profiles import REPO_ROOT, profile_file, repo_relative

NOISE_DIR = REPO_ROOT / 'benchmarks' / 'seed_noise'


@dataclass(frozen=True)
class SeedNoise:
    profile: str
    metric: str
    sigma: float  # pooled sample standard deviation of one run's metric over seeds
    rows: dict[str, dict]  # row name (a config, or TABLE/ROW) -> {'config', 'overrides', 'seeds', 'values', 'std', ...}
    commits: list[str]  # the code the runs were made with
    current: bool  # whether today's code and profile give the measured runs their recorded keys
    path: Path

    def sentence(self) -> str:
        seeds = sorted({s for r in self.rows.values() for s in r['seeds']})
        commits = ', '.join(c[:7] for c in self.commits)
        stale = '' if self.current else (' (measured on runs that today\'s code and profile '
                                         f'configs/profiles/{self.profile}.py would train differently: measure it '
                                         'again)')
        return (f'Measured seed noise of the {self.profile} profile: sigma = {self.sigma:.2f} {self.metric} '
                f'(pooled over {len(self.rows)} rows x seeds {seeds[0]}-{seeds[-1]}, commit {commits}, '
                f'{repo_relative(self.path)}){stale}.')


def profile_sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()[:16]


def same_runs(profile: str, rows: dict) -> bool:
    """Whether every measured run's recorded key is the one today's code and profile give its config and seed: a
    change of the profile file that leaves these runs alone (another detector family's schedule) keeps the
    measurement."""
    keys = [(row.get('config', name), tuple(row.get('overrides', ())), seed, key) for name, row in rows.items()
            for seed, key in zip(row['seeds'], row.get('run_keys') or [None] * len(row['seeds']))]
    return bool(keys) and all(key is not None and _run_key(config, overrides, profile, seed) == key
                              for config, overrides, seed, key in keys)


@functools.lru_cache(maxsize=None)
def _run_key(config: str, overrides: tuple[str, ...], profile: str, seed: int) -> str:
    from repro.plan.compile import compile_config
    return compile_config(REPO_ROOT / config, profile, overrides=list(overrides), seed=seed).run_key


def measured_noise(profile: str, metric: str, folder: Path | None = None) -> SeedNoise | None:
    """The profile's measured noise of `metric`, None where it was never measured."""
    path = (folder or NOISE_DIR) / f"{profile}.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        if data['metric'] != metric:
            return None
        current = data['profile_sha'] == profile_sha(profile_file(profile).read_bytes()) or same_runs(
            profile, data['rows'])
        return SeedNoise(profile, metric, float(data['sigma']), data['rows'], list(data['commits']), current, path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ReproError(f'cannot read the measured seed noise {path}: {err}; run benchmarks/seed_noise.py again')
