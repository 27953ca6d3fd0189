"""Run a plan: locally (in this process one run after another, or N parallel `repro.train` processes), each run
under torchrun, or each run as a submitit job on Slurm.

A run starts once the teacher run it needs is done; a run whose teacher failed is skipped. Finished runs are not
retrained (their records say so), interrupted ones resume from their last checkpoint, and a run another process is
training is waited for (local) or left to it. Progress shows as rich bars (repro.runs.progress). `rerun` moves a run's
work dir aside (nothing is deleted) so it trains from scratch.
"""
from __future__ import annotations

import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from repro.cli import as_stop
from repro.errors import ReproError
from repro.plan.compile import torch_threads
from repro.plan.dag import PlannedRun
from repro.runs.progress import Board
from repro.profiles import REPO_ROOT
from repro.training.provenance import thread_env
from repro.runs.store import read_record


def move_aside(run: PlannedRun) -> Path | None:
    """Rename the run's work dir to <dir>.old-<time> so it retrains from scratch; returns the new name."""
    if not run.work_dir.exists():
        return None
    target = run.work_dir.with_name(f'{run.work_dir.name}.old-{time.strftime("%Y%m%d-%H%M%S")}')
    run.work_dir.rename(target)
    return target


def run_local(runs: list[PlannedRun], profile: str, data_root: str | None = None, jobs: int = 1,
              wandb: str | None = None, title: str = 'runs', settled=None) -> dict[str, str]:
    """Train every run not done yet; returns run key -> final status ('done', 'failed' or 'skipped').

    jobs=1 trains in this process, one run after another; jobs>1 keeps that many `repro.train` processes busy,
    each logging to <work dir>.launch.log. A run that another process (another `repro.run` on the same store) is
    training is waited for, not trained twice; its result counts as ours once it is done.
    """
    _check_dependencies(runs)
    outcome = {r.key: 'done' for r in runs if r.status() == 'done'}
    waiting, active = [r for r in runs if r.key not in outcome], {}
    told = _teller(settled)
    with Board(title, runs, len(outcome)) as board, _stopping(active):
        while waiting or active:
            told(outcome)
            started = False
            for run in list(waiting):
                if len(active) >= jobs:
                    break
                ready = _ready(run, outcome, board)
                if ready is None:
                    continue
                waiting.remove(run)
                if not ready:
                    continue
                started = True
                if jobs == 1:
                    board.started(run)
                    result = _train_here(run, profile, data_root, wandb, board)
                    _settle(run, result, outcome, waiting, board)
                else:
                    log = run.work_dir.parent / f'{run.work_dir.name}.launch.log'
                    log.parent.mkdir(parents=True, exist_ok=True)
                    board.started(run, f'started, log {log}')
                    active[run.key] = (run, subprocess.Popen(
                        train_command(run, profile, data_root, wandb), cwd=REPO_ROOT, stdout=log.open('w'),
                        stderr=subprocess.STDOUT, env=run_env(run)))
            for key, (run, proc) in list(active.items()):
                if proc.poll() is not None:
                    del active[key]
                    record = read_record(run.work_dir) or {}
                    result = 'done' if proc.returncode == 0 and record.get('status') == 'done' else 'failed'
                    _settle(run, 'busy' if result == 'failed' and run.status() == 'running' else result,
                            outcome, waiting, board)
            if not started:
                time.sleep(1.0)
        told(outcome)
    return outcome


def _teller(settled):
    """settled(outcome) each time more runs have settled than when it was last called (a no-op for None)."""
    told = [-1]

    def tell(outcome: dict[str, str]) -> None:
        if settled is not None and len(outcome) != told[0]:
            told[0] = len(outcome)
            settled(outcome)
    return tell


@contextmanager
def _stopping(active: dict):
    """If this process stops (Ctrl-C, SIGTERM, an error), stop its training processes too: each records its run
    as interrupted and releases its lock, so the next attempt resumes them."""
    try:
        yield
    except BaseException:
        for _, proc in active.values():
            proc.terminate()
        for _, proc in active.values():
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
        raise


def _check_dependencies(runs: list[PlannedRun]) -> None:
    keys = {r.key for r in runs}
    orphans = [r.key for r in runs if r.needs and r.needs not in keys]
    if orphans:  # cannot happen for repro.plan.dag.plan(), which adds every teacher run
        raise ReproError(f"runs {', '.join(orphans)} need a teacher run that is not in the plan")


def _ready(run: PlannedRun, outcome: dict[str, str], board: Board) -> bool | None:
    """Whether to start the run now: True; False when it is settled without training (its teacher failed, or
    another process finished it; recorded in outcome); None to keep it waiting (its teacher run is not finished,
    or another process is training it)."""
    if run.needs and run.needs not in outcome:
        return None
    if run.needs and outcome[run.needs] != 'done':
        outcome[run.key] = 'skipped'
        board.finished(run, 'skipped', note=f'its teacher run {run.needs} did not finish')
        return False
    state = run.status()
    if state == 'running':
        return None
    if state == 'done':  # another process trained it meanwhile
        outcome[run.key] = 'done'
        board.finished(run, 'done')
        return False
    return True


def _settle(run: PlannedRun, result: str, outcome: dict[str, str], waiting: list, board: Board) -> None:
    """Record a run's result; 'busy' (another process claimed it first) puts it back in the queue."""
    if result == 'busy':
        board.requeued(run)
        waiting.append(run)
        return
    outcome[run.key] = result
    board.finished(run, result)


def _train_here(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None, board: Board) -> str:
    from repro.runs.store import RunBusy
    from repro.runs.lifecycle import train
    try:
        train(REPO_ROOT / run.config, list(run.overrides), profile, data_root, run.seed, run.work_dir,
              rows=run.rows, role=run.role, wandb=wandb, evaluate_from=run.evaluate_from)
        return 'done'
    except RunBusy:
        return 'busy'
    except Exception as err:  # noqa: BLE001 - recorded in the run's result.json; the table goes on without it
        if (stop := as_stop(err)) is not err:  # not a failure of this run: this process was told to stop
            raise stop from err
        reason = str(err) if isinstance(err, ReproError) else f'{type(err).__name__}: {err}'
        board.print(f'{run.name}: failed: {reason.splitlines()[0] if reason else type(err).__name__}')
        return 'failed'


def run_env(run: PlannedRun) -> dict[str, str]:
    """The environment of a run's training processes: OpenMP and MKL get the run's thread count (repro.train pins
    torch to it too), not this shell's."""
    return thread_env(torch_threads(run.overrides))


def train_args(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None) -> list[str]:
    """The `repro.train` arguments of one planned run."""
    args = [run.config, *run.overrides, '--profile', profile, '--seed', str(run.seed), '--work-dir',
            str(run.work_dir), '--role', run.role, *(f'--row={row}' for row in run.rows)]
    if data_root:
        args += ['--data-root', data_root]
    if wandb:
        args += ['--wandb', wandb]
    if run.evaluate_from:
        args += ['--evaluate-from', run.evaluate_from]
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


def check_gpus(gpus: int, cpu: bool = False) -> None:
    """torchrun's --gpus N needs N CUDA devices here, unless --cpu asks for N gloo processes on CPUs."""
    if gpus < 1:
        raise ReproError(f'--gpus is {gpus}: give the number of processes per node, 1 or more')
    if cpu:
        return
    import torch
    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found < gpus:
        why = ' (this torch is a CPU build)' if torch.version.cuda is None else ''
        raise ReproError(f'--launcher torchrun --gpus {gpus} needs {gpus} CUDA GPUs on this machine, which has '
                         f'{found}{why}; use --launcher local, --launcher slurm from a cluster\'s login node, or add '
                         f'--cpu to run the {gpus} processes on CPUs with gloo')


def run_torchrun(runs: list[PlannedRun], profile: str, data_root: str | None = None, wandb: str | None = None,
                 title: str = 'runs', cpu: bool = False, settled=None, **dist) -> dict[str, str]:
    """Each run in turn under torchrun (dist: gpus, nnodes, node_rank, master_addr, master_port); cpu: on CPUs
    (gloo), with CUDA hidden from the processes. settled: as for run_local."""
    check_gpus(dist.get('gpus', 1), cpu)
    _check_dependencies(runs)
    outcome = {r.key: 'done' for r in runs if r.status() == 'done'}
    told = _teller(settled)
    with Board(title, runs, len(outcome)) as board:
        for run in runs:
            told(outcome)
            if run.key in outcome or not _ready(run, outcome, board):
                continue  # a run another process is training is left to it
            board.started(run, f'torchrun x{dist.get("gpus", 1)}')
            env = {**run_env(run), **({'CUDA_VISIBLE_DEVICES': ''} if cpu else {})}
            proc = subprocess.run(torchrun_command(run, profile, data_root, wandb, **dist), cwd=REPO_ROOT, env=env)
            record = read_record(run.work_dir) or {}
            outcome[run.key] = 'done' if proc.returncode == 0 and record.get('status') == 'done' else 'failed'
            board.finished(run, outcome[run.key])
        told(outcome)
    return outcome


def check_launcher(args) -> None:
    """Refuse a launcher this machine cannot run (torchrun's GPUs, Slurm's sbatch) before anything starts."""
    if args.launcher == 'torchrun':
        check_gpus(args.gpus, args.cpu)
    elif args.launcher == 'slurm':
        from repro.runs.slurm import check_slurm
        check_slurm(args.submitit_cluster)


def launch(runs, profile: str, args, title: str, settled=None) -> dict[str, str]:
    """Train the planned runs with the launcher `args` chose (repro.run's flags): local processes, torchrun or
    Slurm; returns each run's outcome by key. settled(outcome): see run_local (Slurm does not call it)."""
    if args.launcher == 'torchrun':
        return run_torchrun(runs, profile, args.data_root, args.wandb, title, settled=settled, cpu=args.cpu,
                            gpus=args.gpus, nnodes=args.nnodes, node_rank=args.node_rank,
                            master_addr=args.master_addr, master_port=args.master_port)
    if args.launcher == 'slurm':
        from repro.runs.slurm import default_folder, run_slurm, slurm_executor
        executor = slurm_executor(default_folder(), args.submitit_cluster, args.partition, args.gpus_per_node,
                                  args.nodes, args.time, args.array_parallelism, args.slurm_arg)
        distributed = args.gpus_per_node * args.nodes > 1
        return run_slurm(runs, profile, executor, args.data_root, args.wandb, distributed, title)
    return run_local(runs, profile, args.data_root, args.jobs, args.wandb, title, settled)

