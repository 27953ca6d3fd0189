"""Real-size smoke test of the coco profile: `python -m repro.smoke [CONFIG ...]` (repro/training/smoke.py)."""
from __future__ import annotations

import os
from pathlib import Path

from repro.cli import ArgumentParser, run_cli
from repro.training import smoke
from repro.training.smoke import ITERATIONS


def main(argv=None) -> None:
    parser = ArgumentParser(prog='python -m repro.smoke', description=' '.join(smoke.__doc__.split('\n\n')[0].split()))
    parser.add_argument('configs', nargs='*', help='config names (gfl_r50, crosskd_gfl, ...); default: all')
    parser.add_argument('--out', type=Path, help='generated roots, stand-in weights, work dirs and the JSON; '
                        'default $REPRO_WORK_DIRS/smoke (work_dirs/smoke)')
    parser.add_argument('--json', type=Path, help='default OUT/smoke-DEVICE.json')
    parser.add_argument('--threads', type=int, default=os.cpu_count(),
                        help="each run's intra-op threads (env_cfg.torch_threads); default: every core")
    parser.add_argument('--iterations', type=int, default=ITERATIONS,
                        help=f'training iterations of each config (default {ITERATIONS}); its val runs once, at the end')
    parser.add_argument('--again', action='store_true', help='rerun configs already ok in the JSON')
    parser.add_argument('--results', action='store_true', help='write the table into benchmarks/RESULTS.md')
    args = parser.parse_args(argv)
    smoke.run(args, argv)


if __name__ == '__main__':
    run_cli(main)
