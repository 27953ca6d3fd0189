"""Plan, train, evaluate and report a paper table: `python -m repro.run TABLE`.

Tables are named by paper and number: `crosskd:table5`, `pgd:table6a`, `rm:headline`; a bare `table5` means
CrossKD's, and the file stem (`pgd_table6a`) works too. `--list` prints them all; their specs are
repro/tables/specs/<paper>_table<N>.yaml. A table of your own is a spec file anywhere, passed by its path
(`python -m repro.run my/crosskd_table12.yaml`; copy a built-in one to start); its paper and number must not be
a built-in table's.

Several tables (`python -m repro.run table2 table3 pgd:table4`), or `all` for every table of `--list`, train as
one plan: a run they share trains once, `--jobs N` keeps N runs busy across the tables, and each table's report is
written as soon as its last run has finished.

`--show` prints the resolved table (its published numbers and the run each row needs), `--dry-run` the plan after
the same checks a run makes; otherwise every run the table needs is trained (teachers first, finished runs reused,
interrupted ones resumed) and the table's report is written (repro.report: Markdown, HTML, LaTeX, CSV and figures
under reports/<profile>/), the paper's numbers beside ours.
"""
from __future__ import annotations

import argparse
import sys

from repro.cli import ArgumentParser, add_wandb_flags, as_stop, run_cli, set_env_flags
from repro.errors import ReproError
from repro.plan.cache import plan_for
from repro.plan.dag import plan_text
from repro.profiles import PROFILES, choose_profile
from repro.tables.listing import describe, list_json, list_text
from repro.tables.compare import data_root, find_table
from repro.tables.spec import check_configs, load_all
from repro.plan.validate import WANDB_MODES, check_data, check_environment, check_launch_options


def build_parser() -> argparse.ArgumentParser:
    parser = ArgumentParser(prog='python -m repro.run', description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('table', nargs='*', help='table id (table1, crosskd:table5, pgd:table6a, rm:headline) or '
                        'the path of a spec file of your own; several train as one plan, `all` is every table')
    parser.add_argument('--list', action='store_true', help='list the tables and exit')
    parser.add_argument('--json', action='store_true', help='with --list: print the tables as JSON')
    parser.add_argument('--show', action='store_true', help='print the table spec and exit')
    parser.add_argument('--dry-run', action='store_true',
                        help='print the plan and exit; trains nothing and changes no run (the plan is kept in '
                             '$REPRO_CACHE for the next dry-run)')
    parser.add_argument('--profile', choices=PROFILES,
                        help='default: coco with --data-root or where COCO is found (data/coco), else tiny')
    parser.add_argument('--data-root', help='dataset root for the coco profile')
    add_launch_args(parser)
    parser.add_argument('--tolerance', type=float, default=0.3,
                        help='coco profile: a row is reproduced within this many AP points of the paper (0.3)')
    return parser


def add_launch_args(parser) -> None:
    """The options of how a table's runs are trained (seeds, reruns, launchers, W&B, the teacher check), shared by
    repro.run and repro.compare."""
    parser.add_argument('--seeds', type=int, default=1, help='repeat every run over this many seeds (0..N-1)')
    parser.add_argument('--rerun', metavar='ROW|all', action='append', default=[],
                        help='train these rows again from scratch (the old work dir is kept beside, renamed)')
    parser.add_argument('--restore', metavar='DIR',
                        help='put back the kept records (result.json copies) in DIR, such as reports/tiny/runs, for '
                             'runs the store has not finished: they count as finished, without weights')
    parser.add_argument('--launcher', choices=('local', 'torchrun', 'slurm'), default='local',
                        help='local: this machine; torchrun: each run on --gpus processes; slurm: submitit jobs')
    parser.add_argument('--jobs', type=int, default=1, help='local: parallel training processes (default 1: '
                        'one run after another in this process)')
    dist = parser.add_argument_group('torchrun')
    dist.add_argument('--gpus', type=int, default=1, help='GPUs, one process each, per node (--nproc_per_node)')
    dist.add_argument('--cpu', action='store_true', help='run the --gpus processes on CPUs with gloo (no GPU needed)')
    dist.add_argument('--nnodes', type=int, default=1)
    dist.add_argument('--node-rank', type=int, default=0)
    dist.add_argument('--master-addr', default='127.0.0.1')
    dist.add_argument('--master-port', type=int, default=29500)
    slurm = parser.add_argument_group('slurm (submitit)')
    slurm.add_argument('--partition')
    slurm.add_argument('--gpus-per-node', type=int, default=8)
    slurm.add_argument('--nodes', type=int, default=1)
    slurm.add_argument('--time', type=int, default=60 * 24, metavar='MINUTES', help='time limit per job')
    slurm.add_argument('--array-parallelism', type=int, default=16, help='jobs of one wave running at once')
    slurm.add_argument('--slurm-arg', action='append', default=[], metavar='KEY=VALUE',
                       help='passed to sbatch as --KEY=VALUE (e.g. account=lab, qos=high); repeatable')
    slurm.add_argument('--submitit-cluster', choices=('slurm', 'local'), help=argparse.SUPPRESS)  # tests: local
    parser.add_argument('--wandb', choices=WANDB_MODES,
                        help='W&B logging (default: offline, or $REPRO_WANDB)')
    add_wandb_flags(parser)
    parser.add_argument('--trust-teacher', action='store_true',
                        help='distil even from teachers whose measured AP looks broken (repro/runs/lifecycle.py)')


def main(argv: list[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    set_env_flags(args)
    if args.json and not args.list:
        parser.error('--json goes with --list')
    if args.list:
        specs = load_all()
        print(list_json(specs) if args.json else list_text(specs))
        return
    if not args.table:
        parser.error('name a table, or pass --list')
    specs = find_tables(args.table)
    if args.show:
        print('\n\n'.join(describe(spec) for spec in specs))
        return
    if len(specs) == 1 and specs[0].dataset:  # repro.compare's table: on the dataset described beside its spec
        args.data_root = data_root(specs[0], args.data_root)
    run_tables(specs, args)


def find_tables(queries: list[str]) -> list:
    """The tables named on the command line, each once, in the order given; `all` is every table of --list."""
    specs = {}
    for query in queries:
        if query.strip().lower() == 'all':
            found = list(load_all().values())
        else:
            spec, note = find_table(query)
            if note:
                print(f'note: {note}', file=sys.stderr)
            found = [spec]
        for spec in found:
            specs.setdefault(spec.id, spec)
    return list(specs.values())


def run_tables(specs: list, args) -> None:
    """Plan, train and report tables; several share one plan (shared runs once, --jobs across tables), and each
    table's report is written once its runs have settled."""
    if len(specs) > 1:
        if args.rerun:
            raise ReproError("--rerun names rows of one table: run that table on its own to retrain them")
        own = next((spec.id for spec in specs if spec.dataset), None)
        if own:
            raise ReproError(f'{own} runs on a dataset of its own: run it on its own, not with other tables')
    for spec in specs:
        check_configs(spec)
    profile, note = choose_profile(args.profile, args.data_root)
    preflight(specs, args)
    plans = {spec.id: plan_for(spec, profile, args.seeds, args.data_root, args.dry_run) for spec in specs}
    runs = union(plans.values())
    if note:  # once the plan is made: a refused table says its error alone
        print(f'note: {note}', file=sys.stderr)
    if args.dry_run:
        print('\n\n'.join(plan_text(spec, plans[spec.id], profile) for spec in specs))
        if len(specs) > 1:
            done = sum(run.status() == 'done' for run in runs)
            print(f'\n{len(specs)} tables: {len(runs)} distinct runs, {done} done, {len(runs) - done} to run')
        if args.restore:
            from repro.runs.restore import restorable
            back = restorable(runs, args.restore)
            print(f'{len(back)} of the pending runs would be put back from the kept records in {args.restore}'
                  + (f" ({', '.join(run.key for run, _, _ in back)})" if back else ''))
        check_data(runs, profile, args.data_root)  # after the plan, which is worth seeing without the data
        return
    from repro.runs.launch import launch, move_aside
    from repro.runs.restore import restore, retrain_teachers
    from repro.report import write_report
    from repro.plan.seeds import record_plan
    if args.restore:
        restored = restore(runs, args.restore)
        print(f'{len(restored)} of {len(runs)} runs put back from the kept records in {args.restore}')
    for run in runs:
        if 'all' in args.rerun or {r.rpartition('/')[2] for r in run.rows} & set(args.rerun):
            moved = move_aside(run)
            if moved:
                print(f'{run.name}: retraining; the earlier run is kept in {moved}')
    for run in retrain_teachers(runs):
        print(f'{run.name}: put back from a kept record without weights, which runs still to train need: it trains '
              'again')
    seed_plans = {spec.id: record_plan(spec, profile, args.seeds) for spec in specs}  # what repro.report reports
    unreported, unwritten = list(specs), {}

    def report(spec) -> None:
        unreported.remove(spec)
        print()
        try:
            write_report(spec, plans[spec.id], profile, wandb=args.wandb, tolerance=args.tolerance,
                         seed_plan=seed_plans[spec.id])
        except Exception as err:  # noqa: BLE001 - training goes on; the table's error is raised at the end
            if (stop := as_stop(err)) is not err:
                raise stop from err
            unwritten[spec.id] = str(err) if isinstance(err, ReproError) else f'{type(err).__name__}: {err}'
            print(f'{spec.id}: its report could not be written: {unwritten[spec.id]}', file=sys.stderr)

    def report_finished(outcome: dict[str, str]) -> None:  # the launcher calls it as runs settle
        for spec in [spec for spec in unreported if all(run.key in outcome for run in plans[spec.id])]:
            report(spec)

    title = f'{specs[0].id} ({profile})' if len(specs) == 1 else f'{len(specs)} tables ({profile})'
    outcome = launch(runs, profile, args, title, settled=report_finished)
    for spec in list(unreported):  # a table with runs left to another process, or a launcher that does not call
        report(spec)
    failed = [k for k, v in outcome.items() if v != 'done']
    if failed:
        raise ReproError(f"{len(failed)} of {len(runs)} runs did not finish ({', '.join(failed)}); their "
                         'result.json says why; rerun the same command to resume them')
    if unwritten:
        table, reason = next(iter(unwritten.items()))
        raise ReproError(f"the report of {', '.join(unwritten)} could not be written ({table}: {reason}); "
                         f'python -m repro.report {table} --profile {profile} writes it again from the finished runs')


def union(plans) -> list:
    """The runs of several tables' plans, each run key once (with every table's rows), teachers still before the
    runs that need them (each plan has its teachers first)."""
    from dataclasses import replace
    runs = {}
    for planned in plans:
        for run in planned:
            if run.key in runs:
                runs[run.key].rows.extend(row for row in run.rows if row not in runs[run.key].rows)
            else:
                runs[run.key] = replace(run, rows=list(run.rows))
    return list(runs.values())


def preflight(specs: list, args) -> None:
    """What stops a run of these tables before it trains, checked once before anything is planned, moved or
    written; a dry run makes the same checks (and check_data after its plan). A spec may be a sweep's rows of a
    table."""
    check_launch_options(args)
    check_environment(args.wandb)
    known = {row.id for spec in specs for row in spec.rows}
    unknown = set(getattr(args, 'rerun', None) or ()) - known - {'all'}
    if unknown:
        raise ReproError(f"--rerun names no row of {specs[0].id}: {', '.join(sorted(unknown))}; its rows are "
                         f"{', '.join(sorted(known))}, or 'all'")
    if args.launcher != 'local':  # torchrun's GPUs, Slurm's sbatch (a dry run imports no mmengine for the local one)
        from repro.runs.launch import check_launcher
        check_launcher(args)


if __name__ == '__main__':
    run_cli(main)
