"""KD and detection loss magnitudes over a distillation run's training, and its AP, from the runs' logs.

    python -m benchmarks.loss_magnitudes WORK_DIR [WORK_DIR ...] [--json out.json]

For each run: per epoch, the mean over the logged intervals of the summed KD losses (`loss_kd_*`, mmdet's `loss_ld`)
and of the summed detection losses (every other `loss_*`), their ratio, and the run's final COCO AP. Used to show
what a change of a KD normaliser does to real training (benchmarks/RESULTS.md, "KD loss scale").
"""
from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from benchmarks.data_time import training_lines
from repro.runs.store import read_record


def is_kd(key: str) -> bool:
    return key.startswith('loss_kd_') or key == 'loss_ld'


def magnitudes(work_dir: Path) -> dict | None:
    lines = training_lines(work_dir)
    if not lines:
        return None
    epochs: dict[int, list[tuple[float, float]]] = {}
    for line in lines:
        losses = {k: v for k, v in line.items() if k.startswith('loss_')}
        kd = sum(v for k, v in losses.items() if is_kd(k))
        epochs.setdefault(int(line['epoch']), []).append((kd, sum(losses.values()) - kd))
    record = read_record(work_dir) or {}
    per_epoch = [dict(epoch=e, kd=statistics.mean(k for k, _ in rows), det=statistics.mean(d for _, d in rows))
                 for e, rows in sorted(epochs.items())]
    return dict(run=work_dir.name, AP=(record.get('metrics') or {}).get('AP'), epochs=per_epoch)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.loss_magnitudes', description=__doc__.splitlines()[0])
    parser.add_argument('work_dirs', nargs='+', type=Path, help='run work dirs')
    parser.add_argument('--json', type=Path, help='also write the numbers here')
    args = parser.parse_args(argv)
    rows = [row for row in map(magnitudes, args.work_dirs) if row]
    if not rows:
        parser.exit(2, f"error: no training log in {', '.join(map(str, args.work_dirs))}\n")
    for row in rows:
        print(f"{row['run']}: AP {row['AP']}")
        print(f"  {'epoch':>5} {'KD loss':>9} {'det loss':>9} {'KD/det':>7}")
        for e in row['epochs']:
            print(f"  {e['epoch']:>5} {e['kd']:>9.4f} {e['det']:>9.4f} {e['kd'] / e['det']:>7.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + '\n')


if __name__ == '__main__':
    main()
