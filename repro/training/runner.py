"""One run inside mmengine's Runner: the compiled config, pinned threads, deterministic algorithms, W&B tracking,
the training-dynamics and divergence hooks, resume from the work dir's last checkpoint, then the final weights and the
metrics. The run's lifecycle around it (its lock, record, teacher check and export) is repro/runs/lifecycle.py.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from mmengine.hooks import Hook

from repro.plan.compile import MMDET_KD_DETECTOR, WEIGHTS_FILE
from repro.training.divergence import DivergenceGuard
from repro.training.dynamics import TrainingDynamics
from repro.training.metrics import run_metrics
from repro.training.provenance import determinism, pinned, provenance, warn_only


def run(compiled, work_dir: Path, rows, role, wandb, hooks=()) -> tuple[dict[str, float], dict]:
    """mmengine's Runner on the compiled config, with the run's thread count and deterministic algorithms; resumes
    from the work dir's last checkpoint. Returns the metrics, and the provenance and determinism for the record."""
    threads = compiled.cfg.env_cfg.torch_threads
    batch = {} if compiled.cfg.get('evaluate_from') else effective_batch(compiled.cfg)
    with pinned(threads) as alerts:
        metrics, model = _run_pinned(compiled, work_dir, rows, role, wandb, hooks)
        return metrics, {**provenance(), 'determinism': determinism(model, threads, alerts), **batch}


def effective_batch(cfg) -> dict:
    """The batch a training step sees (processes x images per process) and the LR it trains with: the config's,
    or, with mmengine's auto_scale_lr on (the coco profile), scaled by the batch over its base batch. Says so in
    one line when it scales."""
    batch = int(os.environ.get('WORLD_SIZE', '1')) * cfg.train_dataloader.batch_size
    lr = cfg.optim_wrapper.get('optimizer', {}).get('lr')
    scale = cfg.get('auto_scale_lr') or {}
    if not scale.get('enable') or lr is None or batch == scale.get('base_batch_size'):
        return {'effective_batch': batch, 'lr': lr}
    scaled = lr * batch / scale['base_batch_size']
    print(f"LR {lr:g} scaled to {scaled:g}: the effective batch is {batch}, the config's LR is for "
          f"{scale['base_batch_size']} (auto_scale_lr)")
    return {'effective_batch': batch, 'lr': scaled, 'config_lr': lr}


def _run_pinned(compiled, work_dir: Path, rows, role, wandb, hooks) -> tuple[dict[str, float], object]:
    from repro.training.checkpoint import allow_mmengine_checkpoints
    from repro.training.tracking import add_wandb, wandb_mode
    cfg = compiled.cfg
    cfg.work_dir = str(work_dir)
    # mmengine keeps one Visualizer per name in the process: a second run would write into the first's vis_data
    cfg.visualizer.name = f'visualizer-{compiled.run_key}-{time.time_ns()}'
    add_wandb(cfg, compiled, work_dir, wandb_mode(wandb), list(rows), role)
    point = cfg.pop('resume_from', None) or resume_point(work_dir)
    mmdet_teacher = None
    if cfg.model.get('type') == MMDET_KD_DETECTOR:  # mmdet's LD detector: its teacher goes through load_teacher too
        mmdet_teacher, cfg.model.teacher_ckpt = cfg.model.teacher_ckpt, None
    cfg.resume = point is not None
    if point:
        cfg.load_from = point  # with resume on, mmengine resumes from load_from (its optimizer and epoch too)
    allow_mmengine_checkpoints()
    from repro.training.weights import register
    register()  # pretrained backbones resolve through repro.training.weights: REPRO_WEIGHTS, then a download
    from mmengine.runner import Runner
    from mmengine.utils import import_modules_from_strings
    if cfg.get('custom_imports'):  # Config.fromfile honours it, Runner.from_cfg does not
        import_modules_from_strings(**cfg.custom_imports)
    from repro.evaluation.coco_backend import use_backend
    use_backend(cfg)  # after the run key was made: both backends give the same metrics
    if _init_cpu_distributed(cfg.launcher):  # DDP of a CPU model takes no device ids (mmengine passes LOCAL_RANK)
        cfg.model_wrapper_cfg = dict(type='MMDistributedDataParallel', device_ids=None)
    runner = Runner.from_cfg(cfg)
    if mmdet_teacher:  # instead of mmengine's load_checkpoint, which takes any weights with a warning
        from mmengine.model import is_model_wrapper

        from repro.distill.teacher import load_teacher
        load_teacher((runner.model.module if is_model_wrapper(runner.model) else runner.model).teacher_model,
                     mmdet_teacher)
    warn_only()  # after the Runner's strict switch: an op without a deterministic kernel is recorded, not fatal
    if cfg.get('evaluate_from'):
        return _evaluate(runner, cfg.evaluate_from, role or 'model'), runner.model
    recorder = _MetricsRecorder()
    runner.register_hook(recorder, priority='LOWEST')
    runner.register_hook(DivergenceGuard())
    for hook in hooks:  # the run's lifecycle watches it through these (repro/runs/progress.py)
        runner.register_hook(hook)
    if int(os.environ.get('RANK', '0')) == 0:
        if compiled.cfg.model.get('type') == 'DistillDetector':
            runner.register_hook(TrainingDynamics(work_dir))
    try:
        runner.train()
        if int(os.environ.get('RANK', '0')) == 0:
            from repro.training.export import dataset_meta
            save_weights(runner.model, work_dir / WEIGHTS_FILE, {'run_key': compiled.run_key,
                                                                 'dataset_meta': dataset_meta(cfg)})
    finally:
        runner.visualizer.close()  # finishes the W&B run (offline: flushes its files)
    return run_metrics(recorder.metrics), runner.model


def resume_point(work_dir: Path) -> str | None:
    """The checkpoint a rerun resumes from: the one mmengine's `last_checkpoint` names, else (that file empty or naming
    a missing checkpoint: a kill while mmengine wrote it) the newest complete `epoch_N.pth`; None to start afresh.
    torch.save writes zip archives, whose directory is at the end: a file cut short by a kill is not one."""
    import zipfile
    try:
        named = Path((work_dir / 'last_checkpoint').read_text().strip())
    except OSError:
        return None
    if named.is_file() and zipfile.is_zipfile(named):
        return str(named)
    epochs = sorted(work_dir.glob('epoch_*.pth'), key=lambda p: int(p.stem.split('_')[1]), reverse=True)
    return next((str(p) for p in epochs if zipfile.is_zipfile(p)), None)


def _evaluate(runner, checkpoint: str, what: str) -> dict[str, float]:
    """Evaluate a checkpoint (fetched once if a URL; checked against the config) on the val split; `what` names the
    weights in errors (the teacher, of a teacher check)."""
    from mmengine.model import is_model_wrapper

    from repro.distill.teacher import load_teacher
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    try:
        load_teacher(model, checkpoint, what=what)
        return run_metrics(runner.val())
    finally:
        runner.visualizer.close()


def save_weights(model, path: Path, meta: dict) -> None:
    """The final model weights alone (for a distiller: the plain student's), written atomically; `meta` holds the
    run key and the classes (which mmdet's DetInferencer reads)."""
    import io

    import torch
    from mmengine.model import is_model_wrapper

    from repro.distill.detector import KD_ONLY_PREFIX
    from repro.runs.atomic import atomic_write_bytes
    model = model.module if is_model_wrapper(model) else model
    state = {k: v for k, v in model.state_dict().items() if not k.startswith(KD_ONLY_PREFIX)}
    buffer = io.BytesIO()
    torch.save({'state_dict': state, 'meta': meta}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def _init_cpu_distributed(launcher: str) -> bool:
    """torchrun on CPUs: mmengine's pytorch launcher calls torch.cuda.set_device, which a CPU build lacks, so the
    gloo process group is set up here (from torchrun's env vars) and mmengine finds it initialised. Returns
    whether this is a CPU distributed run."""
    import torch
    import torch.distributed as dist
    if launcher != 'pytorch' or torch.cuda.is_available():
        return False
    if not dist.is_initialized():
        dist.init_process_group(backend='gloo')
    return True


class _MetricsRecorder(Hook):
    """Keeps the metrics of the last evaluation that ran during training."""

    def __init__(self):
        self.metrics: dict | None = None  # None until an evaluation ran ({} when it found no boxes at all)

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})

    def after_train(self, runner):
        """Evaluate once if training did not (a schedule whose last epoch does not validate, or a run resumed from
        its final checkpoint), here rather than after runner.train(): its after_run closes the W&B run."""
        if self.metrics is None:
            runner.val_loop.run()
