"""Weights & Biases tracking through mmengine's WandbVisBackend.

Every run logs its losses, learning rate and COCO metrics to a W&B run whose id is the run key, so a resumed
run continues the same W&B run. Mode `offline` (the default) needs no account and writes under the work dir;
`online` falls back to offline with a one-line warning when W&B cannot be reached; `disabled` logs nothing.
The harness never reads, writes or prints an API key: `wandb login` and WANDB_API_KEY stay the user's.
"""
from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path

from mmengine.registry import VISBACKENDS
from mmengine.visualization import WandbVisBackend
from mmengine.visualization.vis_backend import force_init_env

from repro.errors import ReproError

MODES = ('online', 'offline', 'disabled')
PROJECT_ENV = 'REPRO_WANDB_PROJECT'  # default project: repro
MODE_ENV = 'REPRO_WANDB'             # default mode when no --wandb is given
BEST = {'coco/bbox_mAP': 'max', 'coco/bbox_mAP_50': 'max', 'coco/bbox_mAP_75': 'max'}  # the summary keeps the best


@VISBACKENDS.register_module()
class ReproWandbVisBackend(WandbVisBackend):
    """mmengine's backend, minus its code upload: `log_code` would copy every .py file under the working
    directory, a virtual environment included."""

    @force_init_env
    def add_config(self, config, **kwargs) -> None:
        self._wandb.config.update(config.to_dict(), allow_val_change=True)


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
    """Add the W&B backend to the run's visualizer (after the run key is computed: tracking is not identity)."""
    if mode == 'disabled':
        return
    tables = sorted({r.split('/')[0] for r in rows})
    model = cfg.model.get('student', cfg.model)
    detector = model.get('type', '?')
    method = Path(str(compiled.config)).stem
    init = dict(project=os.environ.get(PROJECT_ENV, 'repro'), id=compiled.run_key, resume='allow', mode=mode,
                name=f'{method}-{compiled.run_key}', group=','.join(tables) or None, job_type=role or 'run',
                tags=[compiled.profile, method, detector], dir=str(work_dir),
                config=dict(run_key=compiled.run_key, tables=tables, rows=list(rows), profile=compiled.profile))
    backend = dict(type='ReproWandbVisBackend', save_dir=str(work_dir / 'wandb'), init_kwargs=init,
                   define_metric_cfg=BEST)
    cfg.visualizer.vis_backends = [*cfg.visualizer.get('vis_backends', []), backend]
