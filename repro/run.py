"""Plan, train, evaluate and report a paper table: `python -m repro.run TABLE`.

Table specs live in repro/tables/specs/*.yaml; `--list` prints the ones this checkout has.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.cli import run_cli
from repro.errors import ReproError

SPEC_DIR = Path(__file__).resolve().parent / 'tables' / 'specs'


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m repro.run', description=__doc__.splitlines()[0])
    parser.add_argument('table', nargs='?', help='table id, e.g. table1 or pgd:table6a')
    parser.add_argument('--list', action='store_true', help='list the tables and exit')
    args = parser.parse_args(argv)
    specs = sorted(SPEC_DIR.glob('*.yaml'))
    if args.list:
        for spec in specs:
            print(spec.stem)
        print(f'{len(specs)} table specs in {SPEC_DIR}')
        return
    if not args.table:
        parser.error('name a table, or pass --list')
    raise ReproError(f"unknown table '{args.table}': {len(specs)} table specs exist; see python -m repro.run --list")


if __name__ == '__main__':
    run_cli(main)
