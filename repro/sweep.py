"""Run a W&B sweep's runs: `python -m repro.sweep sweeps/k_ablation.yaml` runs them all with no W&B server, and
`python -m repro.sweep --table=pgd:table6a --profile=tiny --k=30` is one run, the program `wandb agent` starts.

A sweep's runs are its table's rows (repro.plan.sweep_points): the same configs, run keys and results store, so a sweep
fills the table and `python -m repro.run` reuses the sweep's runs, and the other way round. Offline, W&B's own
engine (repro.plan.sweep_engine) checks the file against W&B's schema and enumerates the grid; the rows go into one plan
(repro.plan.dag: teacher runs first, shared runs once, finished runs reused) and to the launcher `repro.run` uses, which
takes the same options (--launcher, --jobs, --gpus, Slurm's). Under an agent, the row's run logs into the agent's
W&B run (repro.training.tracking); a teacher trained on the way gets a W&B run of its own.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import yaml

from repro.cli import run_cli, set_env_flags
from repro.errors import ReproError
from repro.tables.spec import check_configs

NOT_FOR_SWEEPS = ('list', 'json', 'show', 'rerun')  # repro.run options that mean nothing for a sweep


def main(argv: list[str] | None = None) -> None:
    from repro.run import build_parser as run_parser
    from repro.plan.sweep_points import agent_params
    parser = argparse.ArgumentParser(
        prog='python -m repro.sweep', description=__doc__.split('\n\n')[0], allow_abbrev=False,
        usage='%(prog)s SWEEP_FILE [options] | %(prog)s --table=TABLE --profile=P --PARAM=VALUE ... [options]',
        epilog='Options as python -m repro.run: --launcher, --jobs, --gpus, Slurm\'s, --wandb, --data-root, '
               '--profile (replaces the file\'s profile parameter), --dry-run.')
    parser.add_argument('--setup-engine', action='store_true',
                        help="create the environment of W&B's sweep engine (numpy<2, apart from .venv) and exit")
    parser.add_argument('--python', default=sys.executable, help='with --setup-engine: the interpreter to use')
    args, rest = parser.parse_known_args(argv)
    if args.setup_engine:
        from repro.plan.sweep_engine import DEFAULT_VENV, setup_engine
        print(f"W&B's sweep engine: {setup_engine(DEFAULT_VENV, args.python)}")
        return
    launcher = run_parser()
    launcher.allow_abbrev = False  # `--s=1` is a sweep parameter, not --seeds
    options, params = launcher.parse_known_args(rest)
    set_env_flags(options)
    file, *others = options.table or [None]  # repro.run's tables: the sweep file, or the agent's `k=30` parameters
    if file and not file.endswith(('.yaml', '.yml')) and not Path(file).exists():
        others, file = [file, *others], None
    params = [*others, *params]
    used = [name for name in NOT_FOR_SWEEPS if getattr(options, name)] + (['seeds'] if options.seeds != 1 else [])
    if used:
        parser.error(f"--{', --'.join(used)}: not an option of a sweep")
    if file:
        if params:
            parser.error(f"unexpected arguments {' '.join(params)}: a sweep file's parameters come from the file")
        run_file(file, options)
        return
    params = agent_params(params + ([f'--profile={options.profile}'] if options.profile else []))
    if not params:
        parser.error('name a sweep file (e.g. sweeps/k_ablation.yaml), or give a run\'s parameters '
                     '(--table=pgd:table6a --k=30)')
    run_one(params, options)


def load_sweep_file(path: str | Path) -> dict:
    try:
        config = yaml.safe_load(Path(path).read_text())
    except OSError as err:
        raise ReproError(f'cannot read the sweep file {path}: {err}') from err
    except yaml.YAMLError as err:
        raise ReproError(f'{path}: not valid YAML: {err}') from err
    if not isinstance(config, dict) or not isinstance(config.get('parameters'), dict):
        raise ReproError(f'{path}: not a W&B sweep file (no `parameters` mapping)')
    if 'metric' in config:
        _check_metric(config['metric'], path)
    return config


def _check_metric(metric, path) -> None:
    """The sweep's `metric` is one that runs log to W&B (CocoMetric's coco/bbox_mAP..., CrowdDetMetric's crowd/...),
    with a goal W&B knows; W&B would otherwise optimise a metric that never arrives."""
    from repro.training.metrics import CROWD_METRICS, METRICS
    logged = [f'coco/{key}' for key in METRICS.values()] + list(CROWD_METRICS.values())
    name = metric.get('name') if isinstance(metric, dict) else None
    if name not in logged:
        raise ReproError(f"{path}: metric.name={name!r} is never logged by a run; choose one of {', '.join(logged)}")
    if metric.get('goal', 'minimize') not in ('minimize', 'maximize'):
        raise ReproError(f"{path}: metric.goal={metric['goal']!r}: choose maximize or minimize")


def run_file(path: str, options) -> None:
    """Every run of a sweep file's grid: one plan and one launch per table and profile, then the table."""
    from repro.plan.sweep_engine import grid
    from repro.plan.sweep_points import point
    config = load_sweep_file(path)
    if options.profile:
        config['parameters']['profile'] = {'value': options.profile}
    points = [point(values, options.data_root) for values in grid(config, path)]
    groups: dict[tuple[str, str], list] = {}
    for pt in points:
        groups.setdefault((pt.spec.id, pt.profile), []).append(pt)
    print(f'{path}: {len(points)} runs, ' + '; '.join(f'{table} ({profile}): rows '
          + ', '.join(pt.row.id for pt in pts) for (table, profile), pts in groups.items()))
    start, failed = time.time(), []
    for pts in groups.values():
        failed += _run_rows(pts, options)
    if not options.dry_run:
        print(f'{path}: {len(points) - len(failed)} of {len(points)} runs done, wall time '
              f'{time.strftime("%H:%M:%S", time.gmtime(time.time() - start))}')
    if failed:
        raise ReproError(f"{len(failed)} runs did not finish ({', '.join(failed)}); their result.json says why; "
                         'rerun the same command to resume them')


def _run_rows(points: list, options) -> list[str]:
    """Plan and launch the rows of one table under one profile; print the table. Returns the failed run keys."""
    from dataclasses import replace

    from repro.plan.dag import plan
    from repro.plan.cache import plan_for
    from repro.report import write_report
    from repro.plan.dag import plan_text
    from repro.plan.validate import check_data
    from repro.run import preflight
    from repro.runs.launch import launch
    spec, profile = points[0].spec, points[0].profile
    wanted = {pt.row.id for pt in points}
    narrowed = replace(spec, rows=tuple(row for row in spec.rows if row.id in wanted))
    check_configs(narrowed)
    preflight([narrowed], options)
    runs = plan_for(narrowed, profile, 1, options.data_root, options.dry_run)
    if options.dry_run:
        print(plan_text(narrowed, runs, profile))
        check_data(runs, profile, options.data_root)
        return []
    outcome = launch(runs, profile, options, f'{spec.id} sweep ({profile})')
    try:  # the whole table: its other rows show what table runs left in the store
        table_runs = plan(spec, profile, 1, options.data_root)
    except ReproError:
        table_runs = runs
    print()
    write_report(spec, table_runs, profile, wandb=options.wandb, tolerance=options.tolerance)
    return [run.key for run in runs if outcome.get(run.key) != 'done' and any(run.rows)]


def run_one(params: dict, options) -> None:
    """One sweep run, as a W&B agent starts it: the row its parameters select, planned and launched like a table
    run (its teacher run first if missing; a finished run is reused and its metrics logged to the agent's run)."""
    from repro.plan.cache import plan_for
    from repro.plan.dag import plan_text
    from repro.plan.validate import check_data
    from repro.run import preflight
    from repro.runs.launch import launch
    from repro.runs.store import read_record
    from repro.plan.sweep_points import point
    from repro.training.tracking import AGENT_RUN_ENV, MODE_ENV, agent_run_id, log_record_to_agent, wandb_mode
    pt = point(params, options.data_root)
    check_configs(pt.narrowed)
    preflight([pt.narrowed], options)
    runs = plan_for(pt.narrowed, pt.profile, 1, options.data_root, options.dry_run)
    run = next(r for r in runs if f'{pt.spec.id}/{pt.row.id}' in r.rows)
    print(f'{pt.spec.id} {pt.label}: row {pt.row.id} ({pt.row.label}), run {run.key} ({pt.profile})')
    if options.dry_run:
        print(plan_text(pt.narrowed, runs, pt.profile))
        check_data(runs, pt.profile, options.data_root)
        return
    agent = agent_run_id()
    if agent:  # the agent's run is this row's; online unless asked otherwise, else the sweep sees no metrics
        os.environ[AGENT_RUN_ENV] = run.key
        options.wandb = options.wandb or os.environ.get(MODE_ENV) or 'online'
        print(f'W&B: logging into the sweep agent\'s run {agent} ({options.wandb})')
    was_done = run.status() == 'done'
    outcome = launch(runs, pt.profile, options, f'{pt.spec.id} {pt.label} ({pt.profile})')
    record = read_record(run.work_dir) or {}
    if outcome.get(run.key) != 'done':
        why = record.get('reason') or outcome.get(run.key)
        raise ReproError(f'{pt.spec.id} {pt.label}: run {run.key} did not finish ({why}); rerun to resume it')
    if agent and was_done:
        log_record_to_agent(record, wandb_mode(options.wandb))
    paper = {m: '—' if v is None else f'{v:.1f}' for m, v in pt.row.published.items()}
    ours = ', '.join(f'{m} {record["metrics"][m]:.1f} (paper {paper[m]})'
                     for m in pt.spec.metrics if m in record.get('metrics', {}))
    print(f'{pt.spec.id} {pt.label}: {ours}' + (' (reused)' if was_done else ''))


if __name__ == '__main__':
    run_cli(main)
