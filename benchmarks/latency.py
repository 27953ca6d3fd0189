"""Harness latency: `python -m repro.run --list` plus `--dry-run` of every table, as a user types them.

    python -m benchmarks.latency [--rounds 5] [--profile tiny] [--json out.json]

Each command is its own process, as from a shell. In one run this measures, with a fresh cache folder:
- cold: the first pass, which compiles every table's configs with mmengine and parses every spec (the plan and
  spec caches are empty; the synthetic dataset is made before, untimed);
- warm: the median of --rounds passes over the same commands (the caches filled);
- floor: the same number of `python -c pass` processes, the interpreter's own start-up on this machine.
The target (issue 8) is warm < 3 s; warm / floor says how much of it is the harness rather than the interpreter.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 3.0


def timed(commands: list[list[str]], env: dict) -> float:
    start = time.perf_counter()
    for command in commands:
        proc = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if proc.returncode:
            sys.exit(f"error: {' '.join(command[2:])} failed: {proc.stderr.strip()[-500:]}")
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.latency', description=__doc__.splitlines()[0])
    parser.add_argument('--rounds', type=int, default=5, help='warm passes; the median is reported')
    parser.add_argument('--profile', default='tiny', choices=('tiny', 'coco'))
    parser.add_argument('--tables', help='comma-separated table ids (default: every table; a subset for a smoke)')
    parser.add_argument('--json', type=Path, help='also write the numbers here')
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error('--rounds takes a positive number')
    run = [sys.executable, '-m', 'repro.run']
    listing = subprocess.run([*run, '--list', '--json'], cwd=REPO, capture_output=True, text=True, check=True)
    tables = [table['id'] for table in json.loads(listing.stdout)]
    if args.tables:
        unknown = set(args.tables.split(',')) - set(tables)
        if unknown:
            parser.error(f"no such table: {', '.join(sorted(unknown))} (python -m repro.run --list)")
        tables = args.tables.split(',')
    commands = [[*run, '--list']] + [[*run, t, '--dry-run', '--profile', args.profile] for t in tables]
    floor_commands = [[sys.executable, '-c', 'pass']] * len(commands)
    with tempfile.TemporaryDirectory(prefix='repro-latency-') as cache:
        env = {**os.environ, 'REPRO_CACHE': cache}
        timed(commands[1:2], env)  # makes the synthetic dataset, which the timed passes find
        for made in ('plans', 'specs'):
            for path in (Path(cache) / made).glob('*.json'):
                path.unlink()
        cold = timed(commands, env)
        warm_runs = [timed(commands, env) for _ in range(args.rounds)]
        floor_runs = [timed(floor_commands, env) for _ in range(args.rounds)]
    warm, floor = statistics.median(warm_runs), statistics.median(floor_runs)
    result = dict(commands=len(commands), tables=len(tables), profile=args.profile, rounds=args.rounds,
                  cold_s=round(cold, 2), warm_s=round(warm, 2), floor_s=round(floor, 2),
                  warm_runs_s=[round(x, 2) for x in warm_runs], floor_runs_s=[round(x, 2) for x in floor_runs],
                  warm_over_floor=round(warm / floor, 2), target_s=TARGET_S, met=warm < TARGET_S,
                  cpus=os.cpu_count(), python=sys.version.split()[0])
    print(f"{len(commands)} commands (--list and {len(tables)} dry-runs, {args.profile} profile), seconds in all:")
    print(f'  cold (first pass, empty caches) {cold:7.2f}')
    print(f"  warm (median of {args.rounds})         {warm:7.2f}   target < {TARGET_S:g} s: "
          f"{'met' if warm < TARGET_S else 'missed'}")
    print(f"  interpreter floor ({len(commands)} x pass)  {floor:7.2f}   warm / floor {warm / floor:.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + '\n')


if __name__ == '__main__':
    main()
