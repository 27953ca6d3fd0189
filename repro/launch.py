"""Run a plan: locally (in this process one run after another, or N parallel `repro.train` processes), each run
under torchrun, or each run as a submitit job on Slurm.

A run starts once the teacher run it needs is done; a run whose teacher failed is skipped. Finished runs are not
retrained (their records say so), interrupted ones resume from their last checkpoint, and a run another process is
training is left to it. `rerun` moves a run's work dir aside (nothing is deleted) so it trains from scratch.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from repro.errors import ReproError
from repro.plan import PlannedRun
from repro.profiles import REPO_ROOT
from repro.store import read_record


def move_aside(run: PlannedRun) -> Path | None:
    """Rename the run's work dir to <dir>.old-<time> so it retrains from scratch; returns the new name."""
    if not run.work_dir.exists():
        return None
    target = run.work_dir.with_name(f'{run.work_dir.name}.old-{time.strftime("%Y%m%d-%H%M%S")}')
    run.work_dir.rename(target)
    return target


def run_local(runs: list[PlannedRun], profile: str, data_root: str | None = None, jobs: int = 1,
              wandb: str | None = None) -> dict[str, str]:
    """Train every run not done yet; returns run key -> final status ('done', 'failed', 'skipped', 'busy')."""
    outcome = {r.key: 'done' for r in runs if r.status() == 'done'}
    todo = [r for r in runs if r.key not in outcome]
    if jobs <= 1:
        for i, run in enumerate(todo, 1):
            if run.needs and outcome.get(run.needs, 'done') != 'done':
                outcome[run.key] = 'skipped'
                print(f'[{i}/{len(todo)}] {run.name}: skipped, its teacher run {run.needs} did not finish')
                continue
            print(f'[{i}/{len(todo)}] {run.name} ({run.role}, {run.key}) ...', flush=True)
            outcome[run.key] = _train_here(run, profile, data_root, wandb)
        return outcome
    return _run_parallel(todo, outcome, profile, data_root, jobs, wandb)


def _train_here(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None) -> str:
    from repro.store import RunBusy
    from repro.train import train
    try:
        train(REPO_ROOT / run.config, list(run.overrides), profile, data_root, run.seed, run.work_dir,
              rows=run.rows, role=run.role, wandb=wandb)
        return 'done'
    except RunBusy as err:
        print(f'{run.name}: {err}')
        return 'busy'
    except ReproError as err:  # recorded in the run's result.json; the table goes on without it
        print(f'{run.name}: failed: {err}')
        return 'failed'


def train_args(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None) -> list[str]:
    """The `repro.train` arguments of one planned run."""
    args = [run.config, *run.overrides, '--profile', profile, '--seed', str(run.seed), '--work-dir',
            str(run.work_dir), '--role', run.role, *(f'--row={row}' for row in run.rows)]
    if data_root:
        args += ['--data-root', data_root]
    if wandb:
        args += ['--wandb', wandb]
    return args


def train_command(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None) -> list[str]:
    """The `python -m repro.train` command line of one planned run."""
    return [sys.executable, '-m', 'repro.train', *train_args(run, profile, data_root, wandb)]


def torchrun_command(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None, gpus: int,
                     nnodes: int = 1, node_rank: int = 0, master_addr: str = '127.0.0.1',
                     master_port: int = 29500) -> list[str]:
    """torchrun (`python -m torch.distributed.run`) of `repro.train` with mmengine's `pytorch` launcher."""
    return [sys.executable, '-m', 'torch.distributed.run', f'--nproc_per_node={gpus}', f'--nnodes={nnodes}',
            f'--node_rank={node_rank}', f'--master_addr={master_addr}', f'--master_port={master_port}',
            '-m', 'repro.train', *train_args(run, profile, data_root, wandb), '--launcher', 'pytorch']


def run_torchrun(runs: list[PlannedRun], profile: str, data_root: str | None = None, wandb: str | None = None,
                 **dist) -> dict[str, str]:
    """Each run in turn under torchrun (dist: gpus, nnodes, node_rank, master_addr, master_port)."""
    outcome = {r.key: 'done' for r in runs if r.status() == 'done'}
    for run in runs:
        if run.key in outcome:
            continue
        if run.needs and outcome.get(run.needs, 'done') != 'done':
            outcome[run.key] = 'skipped'
            continue
        print(f'{run.name} ({run.role}, {run.key}): torchrun x{dist.get("gpus", 1)}', flush=True)
        proc = subprocess.run(torchrun_command(run, profile, data_root, wandb, **dist), cwd=REPO_ROOT)
        record = read_record(run.work_dir) or {}
        outcome[run.key] = 'done' if proc.returncode == 0 and record.get('status') == 'done' else 'failed'
    return outcome


def _run_parallel(todo: list[PlannedRun], outcome: dict[str, str], profile: str, data_root: str | None,
                  jobs: int, wandb: str | None) -> dict[str, str]:
    waiting, active = list(todo), {}
    while waiting or active:
        for run in list(waiting):
            if len(active) >= jobs:
                break
            state = outcome.get(run.needs, 'done') if run.needs else 'done'
            if run.needs and run.needs not in outcome:
                continue  # its teacher is still training
            waiting.remove(run)
            if state != 'done':
                outcome[run.key] = 'skipped'
                print(f'{run.name}: skipped, its teacher run {run.needs} did not finish')
                continue
            log = run.work_dir.parent / f'{run.work_dir.name}.launch.log'
            log.parent.mkdir(parents=True, exist_ok=True)
            print(f'{run.name} ({run.role}, {run.key}): started, log {log}', flush=True)
            active[run.key] = (run, subprocess.Popen(train_command(run, profile, data_root, wandb), cwd=REPO_ROOT,
                                                     stdout=log.open('w'), stderr=subprocess.STDOUT))
        for key, (run, proc) in list(active.items()):
            if proc.poll() is None:
                continue
            del active[key]
            record = read_record(run.work_dir) or {}
            outcome[key] = 'done' if proc.returncode == 0 and record.get('status') == 'done' else 'failed'
            ap = record.get('metrics', {}).get('AP')
            print(f'{run.name}: {outcome[key]}' + (f', AP {ap}' if ap is not None else '') +
                  (f' ({record.get("reason")})' if record.get('reason') else ''), flush=True)
        if not active and waiting and all(r.needs and r.needs not in outcome for r in waiting):
            raise ReproError('the plan has runs whose teacher run is not in it')  # cannot happen for plan()
        time.sleep(0.5)
    return outcome
