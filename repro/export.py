"""Write a finished run as a plain-mmdet config and weights: `python -m repro.export RUN_DIR OUT_DIR`
(repro/training/export.py)."""
from __future__ import annotations

import sys

from repro.cli import ArgumentParser, quiet_mmengine, run_cli
from repro.training.export import describe, export_run


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(prog='python -m repro.export',
                            description='Write a finished run as a plain-mmdet config and weights.')
    parser.add_argument('run_dir', help='a finished run (its work dir, holding result.json and weights.pth)')
    parser.add_argument('out_dir', help='where to write <config>.py and <config>.pth')
    args = parser.parse_args(argv)
    with quiet_mmengine():
        info = export_run(args.run_dir, args.out_dir)
    print(f"{info['config']}\n{info['weights']}\n{describe(info)}")
    for note in info.get('notes', []):
        print(f'note: {note}', file=sys.stderr)


if __name__ == '__main__':
    run_cli(main)

