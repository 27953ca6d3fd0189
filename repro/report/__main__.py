"""Render paper tables beside our numbers: `python -m repro.report TABLE|all [--profile tiny|coco]`.

Writes reports/<profile>/<table>.{md,html,tex,csv}, the table's figures and index.html, from the records of the
runs `python -m repro.run TABLE` trained. `all` renders every table that has results and marks the others not
run. Seeds are found in the store unless --seeds is given.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repro.cli import run_cli
from repro.errors import ReproError
from repro.profiles import PROFILES, default_profile
from repro.report import default_report_dir, write_report
from repro.report.results import DEFAULT_TOLERANCE

MAX_SEEDS = 100


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python -m repro.report', description=__doc__.splitlines()[0])
    parser.add_argument('table', help="table id (table1, crosskd:table5, pgd:table6a, rm:headline, a spec file) "
                        "or 'all'")
    parser.add_argument('--profile', choices=PROFILES, help='default: coco if a COCO root is found, else tiny')
    parser.add_argument('--tolerance', type=float, default=DEFAULT_TOLERANCE,
                        help=f'AP points within which a row is reproduced (coco profile; default {DEFAULT_TOLERANCE})')
    parser.add_argument('--out', help='output folder (default: reports/<profile>, or $REPRO_REPORTS/<profile>)')
    parser.add_argument('--seeds', type=int, help='seeds the table was run with (default: found in the store)')
    parser.add_argument('--wandb', choices=('online', 'offline', 'disabled'),
                        help='W&B mode of the report runs (default: offline, or $REPRO_WANDB)')
    parser.add_argument('--no-figures', action='store_true', help='tables only')
    return parser


def has_records(runs) -> bool:
    return any((run.work_dir / 'result.json').exists() for run in runs)


def plan_table(spec, profile: str, seeds: int | None):
    """The table's runs over `seeds`, or over as many seeds as the store holds runs of (at least one)."""
    from repro.plan import plan
    if seeds is not None:
        return plan(spec, profile, seeds, check_data=False)
    runs = plan(spec, profile, 1, check_data=False)
    count = 1
    while has_records(runs) and count < MAX_SEEDS:
        more = plan(spec, profile, count + 1, check_data=False)
        if not has_records([r for r in more if r.seed == count]):
            break
        runs, count = more, count + 1
    return runs


def main(argv: list[str] | None = None) -> None:
    from repro.tables.spec import load_all, missing_configs, resolve
    args = build_parser().parse_args(argv)
    if args.seeds is not None and args.seeds < 1:
        raise ReproError('--seeds takes a positive number')
    if args.tolerance < 0:
        raise ReproError(f'--tolerance is {args.tolerance}: give a non-negative number of AP points, e.g. 0.3')
    profile = args.profile or default_profile(None)
    out_dir = default_report_dir(profile) if args.out is None else Path(args.out)
    specs = load_all()
    if args.table != 'all':
        spec, note = resolve(args.table, specs)
        if note:
            print(f'note: {note}', file=sys.stderr)
        missing = missing_configs(spec)
        if missing:
            raise ReproError(f"{spec.id} names configs that do not exist yet: {', '.join(missing)}")
        write_report(spec, plan_table(spec, profile, args.seeds), profile, out_dir, args.tolerance, args.wandb,
                     figures=not args.no_figures)
        return
    render_all(specs, profile, out_dir, args)


def render_all(specs: dict, profile: str, out_dir, args) -> None:
    from repro.report.page import remove_rendered, write_index
    from repro.tables.spec import missing_configs
    notes, rendered = {}, 0
    for spec in specs.values():
        if missing_configs(spec):
            notes[spec.id] = 'not run: configs missing (' + ', '.join(missing_configs(spec)) + ')'
            continue
        try:
            runs = plan_table(spec, profile, args.seeds)
        except ReproError as err:
            notes[spec.id] = f'not run: cannot plan it: {err}'
            continue
        if not has_records(runs):
            remove_rendered(out_dir, spec.path.stem)
            continue
        write_report(spec, runs, profile, out_dir, args.tolerance, args.wandb, figures=not args.no_figures,
                     echo=False)
        rendered += 1
        print(f'{spec.id}: {out_dir / spec.path.stem}.md')
    index = write_index(out_dir, profile, specs, notes)
    print(f'{rendered} of {len(specs)} tables have results; the others are marked not run in {index}')


if __name__ == '__main__':
    run_cli(main)
