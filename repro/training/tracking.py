"""Weights & Biases tracking through mmengine's WandbVisBackend.

Every attempt at a run logs its losses, learning rate and COCO metrics to a W&B run of its own, grouped by the
run key. Mode `offline` (the default) needs no account and writes under the work dir;
`online` falls back to offline with a one-line warning when W&B cannot be reached; `disabled` logs nothing.
The harness never reads, writes or prints an API key: `wandb login` and WANDB_API_KEY stay the user's.

Under a W&B sweep agent (WANDB_SWEEP_ID and WANDB_RUN_ID in the environment) the run that repro.sweep names in
$REPRO_WANDB_AGENT_RUN logs into the run the agent created, so the sweep's views get its metrics; any other run
of that process (a teacher trained on the way) gets a W&B run of its own, as outside a sweep.
"""
from __future__ import annotations

import os
import secrets
import socket
import warnings
from pathlib import Path

from mmengine.registry import VISBACKENDS
from mmengine.visualization import WandbVisBackend
from mmengine.visualization.vis_backend import force_init_env

from repro.errors import ReproError
from repro.plan.validate import WANDB_MODE_ENV as MODE_ENV, WANDB_MODES as MODES

PROJECT_ENV = 'REPRO_WANDB_PROJECT'  # default project: repro
AGENT_RUN_ENV = 'REPRO_WANDB_AGENT_RUN'  # the run key whose W&B run is the sweep agent's (set by repro.sweep)
AGENT_ENV = ('WANDB_SWEEP_ID', 'WANDB_RUN_ID', 'WANDB_SWEEP_PARAM_PATH')  # what `wandb agent` sets for a run
BEST = {'coco/bbox_mAP': 'max', 'coco/bbox_mAP_50': 'max', 'coco/bbox_mAP_75': 'max'}  # the summary keeps the best


@VISBACKENDS.register_module()
class ReproWandbVisBackend(WandbVisBackend):
    """mmengine's backend, minus its code upload: `log_code` would copy every .py file under the working
    directory, a virtual environment included."""

    def __init__(self, *args, agent_run: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self._agent_run = agent_run

    def _init_env(self):
        """Under a sweep agent W&B takes the run from the environment, read once per wandb.setup(): a fresh setup
        sees the agent's variables for the agent's run and, with them hidden, none for any other run."""
        if agent_run_id() is None:
            return super()._init_env()
        import wandb
        hidden = {} if self._agent_run else {k: os.environ.pop(k) for k in AGENT_ENV if k in os.environ}
        try:
            wandb.teardown()
            super()._init_env()
        finally:
            os.environ.update(hidden)

    @force_init_env
    def add_config(self, config, **kwargs) -> None:
        self._wandb.config.update(config.to_dict(), allow_val_change=True)


def agent_run_id() -> str | None:
    """The id of the W&B run a sweep agent started this process for, or None outside an agent."""
    if os.environ.get('WANDB_SWEEP_ID') and os.environ.get('WANDB_RUN_ID'):
        return os.environ['WANDB_RUN_ID']
    return None


def is_agent_run(run_key: str) -> bool:
    """Whether this run logs into the sweep agent's W&B run (repro.sweep names it in $REPRO_WANDB_AGENT_RUN)."""
    return agent_run_id() is not None and os.environ.get(AGENT_RUN_ENV) == run_key


def wandb_mode(mode: str | None) -> str:
    mode = mode or os.environ.get(MODE_ENV) or 'offline'
    if mode not in MODES:
        raise ReproError(f"unknown W&B mode '{mode}': choose one of {', '.join(MODES)}")
    if mode == 'online' and not _reachable():
        warnings.warn('W&B cannot be reached: logging offline (sync later with `wandb sync`)', stacklevel=2)
        print('warning: W&B cannot be reached; this run logs offline (wandb sync its folder later)')
        return 'offline'
    return mode


def _reachable(host: str = 'api.wandb.ai', port: int = 443, timeout: float = 3.0) -> bool:
    base = os.environ.get('WANDB_BASE_URL', '')
    if base:
        from urllib.parse import urlparse
        parsed = urlparse(base)
        host, port = parsed.hostname or host, parsed.port or (443 if parsed.scheme == 'https' else 80)
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def add_wandb(cfg, compiled, work_dir: Path, mode: str, rows: list[str] = (), role: str | None = None) -> None:
    """Add the W&B backend to the run's visualizer (after the run key is computed: tracking is not identity).

    Each attempt at a run is a W&B run of its own (a resumed or --rerun attempt never appends to an earlier one),
    named and grouped by the run key, with the role as job type. W&B's own variables choose the rest:
    WANDB_ENTITY, WANDB_NAME (the run's name) and WANDB_TAGS (comma-separated, added to the harness's tags);
    `--wandb-entity`, `--wandb-name` and `--wandb-tags` set them (repro.cli.add_wandb_flags)."""
    if mode == 'disabled':
        return
    tables = sorted({r.split('/')[0] for r in rows})
    model = cfg.model.get('student', cfg.model)
    detector = model.get('type', '?')
    method = Path(str(compiled.config)).stem
    project = os.environ.get(PROJECT_ENV) or (agent_run_id() and os.environ.get('WANDB_PROJECT')) or 'repro'
    user_tags = [t.strip() for t in os.environ.get('WANDB_TAGS', '').split(',') if t.strip()]
    init = dict(project=project, id=f'{compiled.run_key}-{secrets.token_hex(4)}', mode=mode,
                name=os.environ.get('WANDB_NAME') or f'{method}-{compiled.run_key}', group=compiled.run_key,
                job_type=role or 'run', tags=[compiled.profile, method, detector, *tables, *user_tags],
                dir=str(work_dir),
                config=dict(run_key=compiled.run_key, tables=tables, rows=list(rows), profile=compiled.profile))
    if os.environ.get('WANDB_ENTITY'):
        init['entity'] = os.environ['WANDB_ENTITY']
    agent_run = is_agent_run(compiled.run_key)
    if agent_run:  # the agent's run: W&B takes its id, project and entity from the agent's environment
        for key in ('id', 'project', 'entity'):
            init.pop(key, None)
    backend = dict(type='ReproWandbVisBackend', save_dir=str(work_dir / 'wandb'), init_kwargs=init,
                   define_metric_cfg=BEST, agent_run=agent_run)
    cfg.visualizer.vis_backends = [*cfg.visualizer.get('vis_backends', []), backend]


def log_record_to_agent(record: dict, mode: str) -> None:
    """Log a run that was already done (a table or another sweep trained it) into the sweep agent's W&B run: its
    COCO metrics under the keys training logs (coco/bbox_mAP, as fractions), so the sweep's views show it."""
    from repro.training.metrics import METRICS
    if mode == 'disabled' or agent_run_id() is None:
        return
    import wandb
    wandb.teardown()  # a fresh setup reads the agent's environment
    metrics = record.get('metrics', {})
    run = wandb.init(mode=mode, resume='allow', job_type=record.get('role') or 'run',
                     config=dict(run_key=record.get('run_key'), rows=record.get('rows', []),
                                 profile=record.get('profile'), reused_from=record.get('work_dir')))
    try:
        run.log({f'coco/{key}': metrics[name] / 100 for name, key in METRICS.items() if name in metrics})
    finally:
        run.finish()
        wandb.teardown()  # flushes the run's files before this process goes on
