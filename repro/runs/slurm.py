"""The Slurm launcher: each planned run is a submitit job, in waves that respect teacher-first dependencies.

A wave is submitted as one job array (`executor.batch()`), so `--array-parallelism` bounds how many run at once.
Jobs are requeued on preemption or timeout (submitit's Checkpointable): the requeued job calls `repro.train` again,
which resumes from the run's last checkpoint. With several GPUs per node, each task is one rank of mmengine's
`pytorch` launcher, its environment set by submitit's TorchDistributedEnvironment.
"""
from __future__ import annotations

from pathlib import Path

import submitit

from repro.errors import ReproError
from repro.plan.dag import PlannedRun
from repro.profiles import REPO_ROOT
from repro.runs.store import work_dirs_root


class TrainJob(submitit.helpers.Checkpointable):
    """One run as a job; `checkpoint` (inherited) resubmits the same call when Slurm preempts or times it out."""

    def __call__(self, kwargs: dict, distributed: bool) -> dict:
        from repro.runs.lifecycle import train
        if distributed:
            submitit.helpers.TorchDistributedEnvironment().export(set_cuda_visible_devices=False)
        return train(**kwargs, launcher='pytorch' if distributed else 'none')


def check_slurm(cluster: str | None = None) -> None:
    """Slurm must be reachable (sbatch on PATH): without it submitit would quietly run the jobs as local processes."""
    import shutil
    if cluster is None and shutil.which('sbatch') is None:
        raise ReproError('--launcher slurm: no Slurm on this machine (sbatch is not on PATH); run from a Slurm '
                         'login node, or use --launcher local (or torchrun) here')


def slurm_executor(folder: Path, cluster: str | None = None, partition: str | None = None, gpus_per_node: int = 1,
                   nodes: int = 1, time_min: int = 60 * 24, array_parallelism: int = 16,
                   slurm_args: list[str] = ()) -> submitit.AutoExecutor:
    """cluster: None is Slurm, which must be here (sbatch on PATH); 'local' runs the jobs as local processes (tests)."""
    check_slurm(cluster)
    extra = {}
    for item in slurm_args:
        key, sep, value = item.partition('=')
        if not sep or not key:
            raise ReproError(f"bad --slurm-arg '{item}': write it as key=value, e.g. account=my_lab")
        extra[key] = value
    executor = submitit.AutoExecutor(folder=str(folder / '%j'), cluster=cluster)
    params = dict(nodes=nodes, gpus_per_node=gpus_per_node, tasks_per_node=max(gpus_per_node, 1),
                  timeout_min=time_min, slurm_array_parallelism=array_parallelism,
                  slurm_additional_parameters=extra)
    if partition:
        params['slurm_partition'] = partition
    executor.update_parameters(**params)
    return executor


def run_slurm(runs: list[PlannedRun], profile: str, executor: submitit.AutoExecutor, data_root: str | None = None,
              wandb: str | None = None, distributed: bool = False, title: str = 'runs') -> dict[str, str]:
    from repro.runs.progress import Board
    outcome = {r.key: 'done' for r in runs if r.status() == 'done'}
    pending = [r for r in runs if r.key not in outcome]
    with Board(title, runs, len(outcome)) as board:
        while pending:
            waiting_for = {r.key for r in pending}  # a run whose teacher run is still pending waits for a later wave
            ready = [r for r in pending if not r.needs or (r.needs not in waiting_for and
                                                           outcome.get(r.needs, 'done') == 'done')]
            blocked = [r for r in pending if r.needs and outcome.get(r.needs) in ('failed', 'skipped')]
            for run in blocked:
                outcome[run.key] = 'skipped'
                board.finished(run, 'skipped', note=f'its teacher run {run.needs} did not finish')
            if not ready and not blocked:
                raise ReproError('the plan has runs whose teacher run is not in it')  # cannot happen for plan()
            with executor.batch():
                jobs = [executor.submit(TrainJob(), _kwargs(r, profile, data_root, wandb), distributed)
                        for r in ready]
            for run, job in zip(ready, jobs):
                board.started(run, f'job {job.job_id}')
            for run, job in zip(ready, jobs):
                try:
                    job.result()
                    outcome[run.key] = 'done'
                    board.finished(run, 'done')
                except Exception as err:  # the job's own log and the run's result.json say more
                    outcome[run.key] = 'failed'
                    board.finished(run, 'failed', note=f'job {job.job_id}: '
                                   f'{str(err).strip().splitlines()[-1][:300]}')
            pending = [r for r in pending if r.key not in outcome]
    return outcome


def _kwargs(run: PlannedRun, profile: str, data_root: str | None, wandb: str | None) -> dict:
    return dict(config=str(REPO_ROOT / run.config), overrides=list(run.overrides), profile=profile,
                data_root=data_root, seed=run.seed, work_dir=str(run.work_dir), rows=list(run.rows), role=run.role,
                wandb=wandb, evaluate_from=run.evaluate_from)


def default_folder() -> Path:
    return work_dirs_root() / 'slurm'
