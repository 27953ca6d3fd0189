"""The README's first command: train a tiny GFL teacher and a tiny GFL student on the synthetic data.

`python -m repro.demo` trains configs/teachers/gfl_r101.py (2x schedule) and configs/detectors/gfl_r50.py (1x)
in the `tiny` profile, then prints their COCO AP on the synthetic val split. Finished runs are reused.
"""
from __future__ import annotations

import argparse

from repro.cli import run_cli
from repro.profiles import CONFIG_DIR
from repro.runs.lifecycle import train
from repro.training.metrics import METRICS

RUNS = (('teacher', CONFIG_DIR / 'teachers' / 'gfl_r101.py'), ('student', CONFIG_DIR / 'detectors' / 'gfl_r50.py'))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m repro.demo', description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    results = [(role, train(config, profile='tiny')) for role, config in RUNS]
    print(f"\n{'role':8} {'config':24} " + ' '.join(f'{m:>6}' for m in METRICS) + '  wall time')
    for role, result in results:
        metrics = result['metrics']
        print(f"{role:8} {result['config'].split('configs/')[-1]:24} "
              + ' '.join(f'{metrics[m]:6.1f}' for m in METRICS) + f"  {result['wall_time_s']:.0f} s")
    print('COCO metrics (%) on the synthetic val split; result records are in each work dir\'s result.json')


if __name__ == '__main__':
    run_cli(main)
