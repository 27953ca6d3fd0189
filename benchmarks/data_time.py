"""Data-time share of training: how much of each iteration the step waited for the data loader, from the runs' logs.

    python -m benchmarks.data_time [WORK_DIR ...] [--json out.json]

mmengine's logger writes, every logging interval, the mean `data_time` (waiting for the next batch) and `time` (the
whole iteration) of the interval to vis_data/scalars.json. For each finished run (default: every run of the
store's tiny profile, $REPRO_WORK_DIRS/tiny) this reads the training lines of the run's newest log, leaves out the
first interval (loader workers starting) and prints the share sum(data_time) / sum(time). A share near 0 means the
step never starves; the issue's concern is the synthetic pipeline starving the step.
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from repro.runs.store import RESULT_FILE, read_record, work_dirs_root


def training_lines(work_dir: Path) -> list[dict]:
    """The training entries of the run's newest mmengine log (those with a loss), in order."""
    logs = sorted(work_dir.glob('*/vis_data/scalars.json'))
    if not logs:
        return []
    lines = [json.loads(line) for line in logs[-1].read_text().splitlines() if line.strip()]
    return [line for line in lines if 'loss' in line and 'data_time' in line and 'time' in line]


def share(work_dir: Path) -> dict | None:
    lines = training_lines(work_dir)[1:]
    if not lines:
        return None
    data, total = [line['data_time'] for line in lines], [line['time'] for line in lines]
    record = read_record(work_dir) or {}
    return dict(run=work_dir.name, config=Path(record.get('config', work_dir.name)).stem, intervals=len(lines),
                data_ms=round(statistics.median(data) * 1000, 1), step_ms=round(statistics.median(total) * 1000, 1),
                share=round(sum(data) / sum(total), 4))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.data_time', description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='*', type=Path, help='run work dirs (default: the tiny store\'s runs)')
    parser.add_argument('--json', type=Path, help='also write the numbers here')
    args = parser.parse_args(argv)
    dirs = args.work_dirs or sorted(p.parent for p in (work_dirs_root() / 'tiny').glob(f'*/{RESULT_FILE}')
                                    if '.old-' not in p.parent.name)  # not the earlier runs --rerun kept aside
    rows = [row for row in map(share, dirs) if row]
    if not rows:
        parser.exit(2, f"error: no training log in {', '.join(map(str, dirs)) or work_dirs_root() / 'tiny'}\n")
    print(f"{'run':<34} {'intervals':>9} {'data ms':>8} {'step ms':>8} {'share':>7}")
    for row in rows:
        print(f"{row['run']:<34} {row['intervals']:>9} {row['data_ms']:>8} {row['step_ms']:>8} {row['share']:>7.1%}")
    shares = [row['share'] for row in rows]
    print(f'{len(rows)} runs: data-time share median {statistics.median(shares):.1%}, largest {max(shares):.1%}')
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + '\n')


if __name__ == '__main__':
    main()
