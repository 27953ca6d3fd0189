"""The measured seed-to-seed noise of a profile: the standard deviation of one run's AP over seeds, pooled over
representative rows, that claim verdicts (repro.report.tables.claims) are judged against.

It is a measurement, not a setting: `python benchmarks/seed_noise.py` computes it from finished runs' records and
writes benchmarks/seed_noise/<profile>.json with the records it used (benchmarks/seed_noise/runs/). A profile
that was never measured has no entry, and verdicts then rest on the paired differences alone.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from repro.errors import ReproError
from repro.profiles import REPO_ROOT, profile_file

NOISE_DIR = REPO_ROOT / 'benchmarks' / 'seed_noise'


@dataclass(frozen=True)
class SeedNoise:
    profile: str
    metric: str
    sigma: float  # pooled sample standard deviation of one run's metric over seeds
    rows: dict[str, dict]  # row name -> {'seeds': [...], 'values': [...], 'std': ...}
    commits: list[str]  # the code the runs were made with
    current: bool  # whether the profile file is the one the runs were made with
    path: Path

    def sentence(self) -> str:
        seeds = sorted({s for r in self.rows.values() for s in r['seeds']})
        commits = ', '.join(c[:7] for c in self.commits)
        stale = '' if self.current else (' (measured under an earlier version of the profile file, '
                                         f'configs/profiles/{self.profile}.py: measure it again)')
        return (f'Measured seed noise of the {self.profile} profile: sigma = {self.sigma:.2f} {self.metric} '
                f'(pooled over {len(self.rows)} rows x seeds {seeds[0]}-{seeds[-1]}, commit {commits}, '
                f'{_shown(self.path)}){stale}.')


def _shown(path: Path) -> str:
    return path.relative_to(REPO_ROOT).as_posix() if path.is_relative_to(REPO_ROOT) else str(path)


def profile_sha(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()[:16]


def measured_noise(profile: str, metric: str, folder: Path | None = None) -> SeedNoise | None:
    """The profile's measured noise of `metric`, None where it was never measured."""
    path = (folder or NOISE_DIR) / f"{profile}.json"
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
        if data['metric'] != metric:
            return None
        current = data['profile_sha'] == profile_sha(profile_file(profile).read_bytes())
        return SeedNoise(profile, metric, float(data['sigma']), data['rows'], list(data['commits']), current, path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise ReproError(f'cannot read the measured seed noise {path}: {err}; run benchmarks/seed_noise.py again')
