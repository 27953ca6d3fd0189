"""Train and evaluate one run with mmengine's Runner: `python -m repro.train CONFIG [key=value ...]`.

The work dir gets mmengine's checkpoints and logs and, when the run finishes, `result.json` with the COCO
metrics and the run's provenance. A rerun resumes from the last checkpoint; a finished run is not retrained.
`--evaluate-from CHECKPOINT` evaluates given weights (a path or a URL, e.g. mmdet's zoo) instead of training.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from mmengine.hooks import Hook

from repro.cli import ArgumentParser, add_wandb_flags, run_cli, set_env_flags
from repro.divergence import DivergenceGuard
from repro.dynamics import TrainingDynamics
from repro.errors import ReproError
from repro.mmdet_bridge import MMDET_KD_DETECTOR, WEIGHTS_FILE
from repro.profiles import PROFILES, choose_profile
from repro.progress import ProgressFile
from repro.provenance import determinism, pinned, provenance, warn_only
from repro.store import RESULT_FILE, default_work_dir, running_record, teacher_dir
from repro.validate import AMP, WANDB_MODES, check_environment, check_named_folders, check_resume, check_writable

METRICS = {'AP': 'bbox_mAP', 'AP50': 'bbox_mAP_50', 'AP75': 'bbox_mAP_75', 'APs': 'bbox_mAP_s',
           'APm': 'bbox_mAP_m', 'APl': 'bbox_mAP_l'}
CROWD_METRICS = {'AP': 'crowd/AP', 'MR': 'crowd/MR', 'JI': 'crowd/JI'}  # CrowdDetMetric (CrowdHuman configs)


def coco_metrics(metrics: dict) -> dict[str, float]:
    """mmdet's CocoMetric keys (fractions) as the papers print them: AP, AP50, ... in percent.

    CocoMetric returns no keys at all when the model predicted no box on the whole val split: that is AP 0.
    """
    if not any(k.startswith('coco/') for k in metrics):
        return {name: 0.0 for name in METRICS}
    return {name: round(float(metrics[f'coco/{key}']) * 100, 2) for name, key in METRICS.items()}


def run_metrics(metrics: dict) -> dict[str, float]:
    """The papers' numbers, in percent: CrowdDetMetric's AP, MR⁻² and JI where it ran, else `coco_metrics`."""
    if any(k.startswith('crowd/') for k in metrics):
        return {name: round(float(metrics[key]) * 100, 2) for name, key in CROWD_METRICS.items()}
    return coco_metrics(metrics)


def train(config: str | Path, overrides: list[str] | None = None, profile: str | None = None,
          data_root: str | None = None, seed: int = 0, work_dir: str | Path | None = None,
          rows: list[str] = (), role: str | None = None, wandb: str | None = None, launcher: str = 'none',
          wait: bool = False, evaluate_from: str | None = None, resume: str | None = None) -> dict:
    """Train and evaluate one run; returns its record (repro.store), also written to result.json.

    rows: the table rows ('crosskd:table1/i3') that asked for this run, kept in its record.
    wandb: 'offline' (default), 'online' or 'disabled' (repro.tracking).
    launcher: mmengine's launcher; 'pytorch' under torchrun or Slurm tasks, where rank 0 alone keeps the record.
    wait: if another process is training this run, wait for it instead of failing (a shared teacher).
    evaluate_from: evaluate these weights (a path or URL) instead of training; a run of its own (its key differs).
    resume: a checkpoint in the run's work dir to resume from (default: its last one, when there is one).
    """
    from repro.mmdet_bridge import compile_config
    from repro.store import claim, finished, read_record, status
    from repro.validate import check

    check_environment(wandb)
    profile, note = choose_profile(profile, data_root)
    compiled = compile_config(config, profile, overrides, data_root=data_root, seed=seed,
                              evaluate_from=evaluate_from)
    check(compiled)  # a bad setting stops here, before anything is printed or written
    if work_dir:
        check_writable(work_dir, '--work-dir')
    work_dir = Path(work_dir or default_work_dir(config, profile, compiled.run_key))
    if resume:
        check_resume(resume, work_dir)
        compiled.cfg.resume_from = resume  # after the run key: where to resume from is not what the run is
    if note:
        print(f'note: {note}', file=sys.stderr)
    name = Path(config).stem
    if status(work_dir, compiled.run_key) == 'done':
        return _already_done(work_dir, rows, name)
    teacher = compiled.teacher
    if teacher and compiled.teacher_trained_here and status(teacher_dir(compiled), teacher.run_key) != 'done':
        # every rank would have to join; and a real-size teacher is days of training that deserves a run of its own
        if launcher != 'none' or profile == 'coco':
            raise ReproError(f'{name}: its teacher run {teacher.config.name} ({teacher.run_key}) is not trained; '
                             'run it first (python -m repro.run plans it as a run of its own) or pass '
                             'teacher.checkpoint=PATH')
        print(f'{name}: training its teacher {teacher.config.name} first')
        train(teacher.config, list(compiled.cfg.teacher.get('overrides', [])), profile, data_root,
              work_dir=teacher_dir(compiled), role='teacher', wandb=wandb, wait=True)
    extra = {}
    if teacher and launcher == 'none':  # a teacher that cannot detect is refused here (repro/teacher_check.py)
        from repro.teacher_check import check_teacher
        extra['teacher_ap'] = check_teacher(compiled, profile, data_root, wandb)
    compiled.cfg.launcher = launcher
    if launcher != 'none' and int(os.environ.get('RANK', '0')) > 0:  # rank 0 keeps the record and the lock
        metrics, _ = _run(compiled, work_dir, rows, role, wandb)
        return {'run_key': compiled.run_key, 'status': 'done', 'metrics': metrics}
    with claim(work_dir, wait):
        record = read_record(work_dir)
        if not finished(work_dir, record):  # else another process finished it while we waited
            result = _train_claimed(compiled, config, overrides, profile, seed, work_dir, rows, role, wandb, record,
                                    extra)
    if finished(work_dir, record):
        return _already_done(work_dir, rows, name)
    print(f'{name}: AP {result["metrics"].get("AP")} ({result["wall_time_s"]:.0f} s) -> {work_dir / RESULT_FILE}')
    return result


def _train_claimed(compiled, config, overrides, profile, seed, work_dir: Path, rows, role, wandb, record,
                   extra: dict) -> dict:
    """Train a run whose lock this process holds, keeping its record up to date (running, failed, done); `extra`
    goes into the record (the teacher's measured AP)."""
    from repro.evaluation.coco_backend import backend
    from repro.store import merge_rows, write_record
    base = {'run_key': compiled.run_key, 'config': str(config), 'profile': profile, 'coco_eval': backend(),
            'overrides': list(overrides or []), 'seed': seed, 'work_dir': str(work_dir), 'role': role,
            'rows': merge_rows(record, list(rows)),
            **({'evaluated_from': compiled.cfg.evaluate_from} if compiled.cfg.get('evaluate_from') else {}),
            'started': (record or {}).get('started') or time.strftime('%Y-%m-%dT%H:%M:%S%z'), **extra}
    before = float((record or {}).get('wall_time_s', 0.0))  # time spent by interrupted attempts
    write_record(work_dir, running_record(base))
    start = time.time()
    try:
        metrics, conditions = _run(compiled, work_dir, rows, role, wandb)
    except BaseException as err:  # Ctrl-C and SIGTERM included: the record says why, the next attempt resumes
        # SystemExit: submitit's requeue on preemption or timeout exits from its signal handler mid-training
        state = 'interrupted' if isinstance(err, (KeyboardInterrupt, SystemExit)) else 'failed'
        reason = (f'exited with code {err.code} during training (a scheduler requeue, e.g. submitit on preemption)'
                  if isinstance(err, SystemExit) else f'{type(err).__name__}: {err}'[:2000])
        write_record(work_dir, {**base, 'status': state, 'reason': reason,
                                'wall_time_s': round(before + time.time() - start, 1)})
        raise
    result = {**base, 'status': 'done', 'metrics': metrics,
              'wall_time_s': round(before + time.time() - start, 1), **conditions}
    if not compiled.cfg.get('evaluate_from'):
        result['export'] = _export(compiled, config, work_dir)
    write_record(work_dir, result)
    return result


def _export(compiled, config, work_dir: Path) -> dict:
    """The run's plain-mmdet pair in its work dir (repro/export.py), or why there is none: a run that trained is
    not failed by its export."""
    from repro.export import EXPORT_DIR, describe, write_pair
    try:
        info = write_pair(compiled.cfg, work_dir / WEIGHTS_FILE, work_dir / EXPORT_DIR, Path(config).stem,
                          compiled.teacher_checkpoint)
    except ReproError as err:
        print(f'{Path(config).stem}: no plain-mmdet export: {err}', file=sys.stderr)
        return {'error': str(err)}
    print(f'{Path(config).stem}: plain-mmdet pair in {work_dir / EXPORT_DIR} ({describe(info)})')
    return info


def _already_done(work_dir: Path, rows: list[str], name: str) -> dict:
    from repro.store import claim, merge_rows, read_record, write_record
    record = read_record(work_dir)
    if rows and set(rows) - set(record.get('rows', [])):
        with claim(work_dir, wait=True):
            record = {**read_record(work_dir), 'rows': merge_rows(read_record(work_dir), list(rows))}
            write_record(work_dir, record)
    print(f'{name}: already done in {work_dir}, AP {record["metrics"].get("AP")}')
    return record


def _run(compiled, work_dir: Path, rows, role, wandb) -> tuple[dict[str, float], dict]:
    """mmengine's Runner on the compiled config, with the run's thread count and deterministic algorithms; resumes
    from the work dir's last checkpoint. Returns the metrics, and the provenance and determinism for the record."""
    threads = compiled.cfg.env_cfg.torch_threads
    batch = {} if compiled.cfg.get('evaluate_from') else effective_batch(compiled.cfg)
    with pinned(threads) as alerts:
        metrics, model = _run_pinned(compiled, work_dir, rows, role, wandb)
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


def _run_pinned(compiled, work_dir: Path, rows, role, wandb) -> tuple[dict[str, float], object]:
    from repro.checkpoint import allow_mmengine_checkpoints
    from repro.tracking import add_wandb, wandb_mode
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
    from repro.weights import register
    register()  # pretrained backbones resolve through repro.weights: REPRO_WEIGHTS, then a download
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
    if int(os.environ.get('RANK', '0')) == 0:
        runner.register_hook(ProgressFile(work_dir))
        if compiled.cfg.model.get('type') == 'DistillDetector':
            runner.register_hook(TrainingDynamics(work_dir))
    try:
        runner.train()
        if int(os.environ.get('RANK', '0')) == 0:
            from repro.export import dataset_meta
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
    from repro.io import atomic_write_bytes
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


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(prog='python -m repro.train', description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config, e.g. configs/detectors/gfl_r50.py')
    parser.add_argument('overrides', nargs='*', metavar='key=value', help='config overrides (keys must exist)')
    parser.add_argument('--profile', choices=PROFILES,
                        help='default: coco with --data-root or where COCO is found (data/coco), else tiny')
    parser.add_argument('--data-root', help='root of the coco profile\'s data: COCO (default: data/coco), or the '
                        'dataset the config names (CrowdHuman: data/crowdhuman)')
    parser.add_argument('--seed', type=int, default=0, help='0 .. 2**32 - 1 (default 0)')
    parser.add_argument('--work-dir', help='default: work_dirs/<profile>/<config>-<run key>')
    parser.add_argument('--wandb', choices=WANDB_MODES,
                        help='W&B logging (default: offline, or $REPRO_WANDB)')
    parser.add_argument('--row', action='append', default=[], help='table row this run serves (repro.run sets it)')
    parser.add_argument('--role', choices=('teacher', 'student', 'distilled'), help='W&B job type')
    parser.add_argument('--launcher', choices=('none', 'pytorch'), default='none',
                        help="'pytorch' under torchrun: mmengine initialises torch.distributed from its env vars")
    parser.add_argument('--evaluate-from', metavar='CHECKPOINT',
                        help='evaluate these weights (a path or URL) instead of training')
    mmdet = parser.add_argument_group("mmdet's tools/train.py options")
    mmdet.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                       help='config overrides, as the positional key=value ones')
    mmdet.add_argument('--amp', action='store_true', help="mixed precision (mmengine's AmpOptimWrapper; needs a "
                       'CUDA GPU); part of the run key')
    mmdet.add_argument('--resume', nargs='?', const='auto', metavar='CHECKPOINT',
                       help="resume from the run's last checkpoint (what every run does anyway), or from this "
                            "checkpoint of the run's own work dir")
    parser.add_argument('--trust-teacher', action='store_true',
                        help='distil even from a teacher whose measured AP looks broken (repro/teacher_check.py)')
    add_wandb_flags(parser)
    args = parser.parse_intermixed_args(argv)  # key=value overrides before or after the options
    check_named_folders(args)
    set_env_flags(args)
    overrides = [*args.overrides, *args.cfg_options, *(AMP if args.amp else [])]
    train(args.config, overrides, args.profile, args.data_root, args.seed, args.work_dir, rows=args.row,
          role=args.role, wandb=args.wandb, launcher=args.launcher, evaluate_from=args.evaluate_from,
          resume=None if args.resume in (None, 'auto') else args.resume)


if __name__ == '__main__':
    run_cli(main)
