"""Measure a profile's seed-to-seed noise from finished runs: `python benchmarks/seed_noise.py --store DIR
--configs configs/detectors/gfl_r50.py configs/methods/crosskd_gfl.py ...`.

For each named config (a row: its runs with no overrides, over every seed the store has finished), prints the AP of
each seed, the mean and the sample standard deviation, and the pooled standard deviation over the rows (each row's
variance weighted by its degrees of freedom). With --write it records them in benchmarks/seed_noise/<profile>.json,
which claim verdicts read (repro.report.seed_noise), and copies the records used into
benchmarks/seed_noise/runs/. The profile file's hash is taken at the runs' commits, so a later change to the profile
marks the measurement stale.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
from pathlib import Path

from repro.report.seed_noise import NOISE_DIR, profile_sha
from repro.profiles import REPO_ROOT


def finished_runs(store: Path, profile: str, config: str) -> list[dict]:
    """The done records under store/profile of `config` run without overrides under today's profile file (runs of
    an earlier profile are other runs), one per seed (the first found)."""
    by_seed, today = {}, profile_sha((REPO_ROOT / 'configs' / 'profiles' / f'{profile}.py').read_bytes())
    for path in sorted((store / profile).glob(f'{Path(config).stem}-*/result.json')):
        record = json.loads(path.read_text())
        if (record.get('status') == 'done' and not record.get('overrides') and record.get('metrics')
                and profile_at(record['git_commit'], profile) == today):
            record['_path'] = path
            by_seed.setdefault(record['seed'], record)
    return [by_seed[s] for s in sorted(by_seed)]


def profile_at(commit: str, profile: str) -> str | None:
    """The hash of the profile file at a record's commit (`<sha>-dirty`: the commit's own), None if unknown here."""
    shown = subprocess.run(['git', 'show', f"{commit.removesuffix('-dirty')}:configs/profiles/{profile}.py"],
                           cwd=REPO_ROOT, capture_output=True)
    return profile_sha(shown.stdout) if shown.returncode == 0 else None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--store', required=True, help='work dirs root holding <profile>/<config>-<key>/result.json')
    parser.add_argument('--profile', default='tiny')
    parser.add_argument('--metric', default='AP')
    parser.add_argument('--configs', nargs='+', required=True)
    parser.add_argument('--write', action='store_true', help=f'record the result in {NOISE_DIR}')
    args = parser.parse_args(argv)
    rows, records, commits = {}, [], set()
    for config in args.configs:
        runs = finished_runs(Path(args.store), args.profile, config)
        if len(runs) < 2:
            raise SystemExit(f'{config}: {len(runs)} finished seed(s) in {args.store}; need at least 2')
        values = [float(r['metrics'][args.metric]) for r in runs]
        rows[config] = dict(seeds=[r['seed'] for r in runs], values=values, mean=round(statistics.mean(values), 3),
                            std=round(statistics.stdev(values), 3), run_keys=[r['run_key'] for r in runs],
                            wall_time_s=[r.get('wall_time_s') for r in runs])
        records += runs
        commits |= {r['git_commit'] for r in runs}
        print(f"{config}: {args.metric} {values} mean {rows[config]['mean']:.2f} std {rows[config]['std']:.2f}")
    dof = sum(len(r['values']) - 1 for r in rows.values())
    sigma = math.sqrt(sum((len(r['values']) - 1) * r['std'] ** 2 for r in rows.values()) / dof)
    print(f'pooled std {sigma:.3f} {args.metric} over {len(rows)} rows ({dof} degrees of freedom)')
    if not args.write:
        return
    shas = {c: profile_at(c, args.profile) for c in sorted(commits)}
    if len(set(shas.values())) != 1:
        raise SystemExit(f'the runs come from commits with different profile files ({shas}); measure one')
    out = NOISE_DIR / f'{args.profile}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(profile=args.profile, metric=args.metric, sigma=round(sigma, 3), dof=dof,
                                   rows=rows, commits=sorted(commits), profile_sha=shas.popitem()[1],
                                   made_by='python benchmarks/seed_noise.py --write ' +
                                           ' '.join(['--configs', *args.configs])), indent=1) + '\n')
    runs_dir = NOISE_DIR / 'runs'
    runs_dir.mkdir(exist_ok=True)
    for record in records:
        shutil.copyfile(record['_path'], runs_dir / f"{record['_path'].parent.name}.json")
    print(f'wrote {out} and {len(records)} records in {runs_dir}')


if __name__ == '__main__':
    main()
