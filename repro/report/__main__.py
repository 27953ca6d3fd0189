"""Render paper tables beside our numbers: `python -m repro.report TABLE|all [--profile tiny|coco]`.

Writes reports/<profile>/<table>.{md,html,tex,csv}, the table's figures and index.html, from the records of the
runs `python -m repro.run TABLE` trained. `all` renders every table that has results and marks the others not
run. A table's rows are reported over the seeds `repro.run` last ran it with (--seeds N: seeds 0..N-1 instead; seed 0
where neither says); other runs in the store are never averaged in.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from repro.cli import ArgumentParser, run_cli
from repro.errors import ReproError
from repro.profiles import PROFILES, default_profile
from repro.report import default_report_dir, write_report
from repro.report.tables.results import DEFAULT_TOLERANCE
from repro.plan.seeds import seed_count, seed_plan
from repro.plan.validate import WANDB_MODES


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog='python -m repro.report', description=__doc__.splitlines()[0])
    parser.add_argument('table', help="table id (table1, crosskd:table5, pgd:table6a, rm:headline, a spec file), "
                        "compare:NAME (a comparison repro.compare ran) or 'all'")
    parser.add_argument('--profile', choices=PROFILES, help='default: coco if a COCO root is found, else tiny')
    parser.add_argument('--tolerance', type=float, default=DEFAULT_TOLERANCE,
                        help=f'AP points within which a row is reproduced (coco profile; default {DEFAULT_TOLERANCE})')
    parser.add_argument('--out', help='output folder (default: reports/<profile>, or $REPRO_REPORTS/<profile>)')
    parser.add_argument('--seeds', type=seed_count, metavar='N',
                        help='report seeds 0..N-1 (default: those repro.run last ran the table with, else seed 0)')
    parser.add_argument('--wandb', choices=WANDB_MODES,
                        help='W&B mode of the report runs (default: offline, or $REPRO_WANDB)')
    parser.add_argument('--no-figures', action='store_true', help='tables only')
    parser.add_argument('--restore', metavar='DIR',
                        help='first put back the kept records (result.json copies) in DIR, such as reports/tiny/runs, '
                             'for runs the store has not finished')
    return parser


def has_records(runs) -> bool:
    return any((run.work_dir / 'result.json').exists() for run in runs)


def plan_table(spec, profile: str, seeds: int | None, restore_dir: str | None = None):
    """(the table's runs, their SeedPlan, a note where it fell to seed 0) over --seeds, else the seeds repro.run
    recorded, else seed 0; never over what else the store holds. With `restore_dir`, the kept records there are
    first put back for runs the store has not finished."""
    from repro.plan.dag import plan
    chosen, note = seed_plan(spec, profile, seeds)
    root = None
    if spec.dataset:  # repro.compare's table: on the dataset described beside its spec
        from repro.tables.compare import data_root
        root = data_root(spec, None)
    runs = plan(spec, profile, chosen.count, data_root=root, check_data=False)
    if restore_dir:
        from repro.runs.restore import restore
        print(f'{spec.id}: {len(restore(runs, restore_dir))} of {len(runs)} runs put back from the kept records in '
              f'{restore_dir}')
    return runs, chosen, note


def main(argv: list[str] | None = None) -> None:
    from repro.tables.spec import load_all, missing_configs
    args = build_parser().parse_args(argv)
    if args.tolerance < 0:
        raise ReproError(f'--tolerance is {args.tolerance}: give a non-negative number of AP points, e.g. 0.3')
    profile = args.profile or default_profile(None)
    out_dir = default_report_dir(profile) if args.out is None else Path(args.out)
    specs = load_all()
    if args.table != 'all':
        from repro.tables.compare import find_table
        spec, note = find_table(args.table, specs)
        if note:
            print(f'note: {note}', file=sys.stderr)
        missing = missing_configs(spec)
        if missing:
            raise ReproError(f"{spec.id} names configs that do not exist yet: {', '.join(missing)}")
        runs, chosen, seeds_note = plan_table(spec, profile, args.seeds, args.restore)
        if seeds_note:
            print(f'note: {seeds_note}', file=sys.stderr)
        write_report(spec, runs, profile, out_dir, args.tolerance, args.wandb, figures=not args.no_figures,
                     seed_plan=chosen)
        return
    render_all(specs, profile, out_dir, args)


def render_all(specs: dict, profile: str, out_dir, args) -> None:
    from repro.report.tables.page import remove_rendered, write_index
    from repro.tables.spec import missing_configs
    notes, rendered = {}, 0
    for spec in specs.values():
        if missing_configs(spec):
            notes[spec.id] = 'not run: configs missing (' + ', '.join(missing_configs(spec)) + ')'
            continue
        try:
            runs, chosen, seeds_note = plan_table(spec, profile, args.seeds, args.restore)
        except ReproError as err:
            notes[spec.id] = f'not run: cannot plan it: {err}'
            continue
        if not has_records(runs):
            remove_rendered(out_dir, spec.path.stem)
            continue
        write_report(spec, runs, profile, out_dir, args.tolerance, args.wandb, figures=not args.no_figures,
                     echo=False, seed_plan=chosen)
        rendered += 1
        default = ' (seed 0 only: no --seeds, and no plan recorded by repro.run)' if seeds_note else ''
        print(f'{spec.id}: {out_dir / spec.path.stem}.md{default}')
    index = write_index(out_dir, profile, specs, notes)
    print(f'{rendered} of {len(specs)} tables have results; the others are marked not run in {index}')


if __name__ == '__main__':
    run_cli(main)
