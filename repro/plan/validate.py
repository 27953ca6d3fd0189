"""Refuse a bad run in one line before any work starts.

`check_environment(wandb)` looks at what the environment chooses (the W&B mode, the COCO evaluation backend, the
folders the harness writes to); repro.train, repro.run (a dry run too) and repro.sweep call it first.

`check(compiled)` looks at the resolved config of a run (and of its teacher's run): the schedule, batch sizes,
learning rate, model widths, the backbone's depth, the seed and a checkpoint to evaluate. repro.train calls it
right after compiling, before anything is printed, logged or written. A problem is a ReproError naming the key,
the bad value and what is allowed: `train_cfg.max_epochs=-1: must be a positive integer`.
"""
from __future__ import annotations

import os
from pathlib import Path

from repro.errors import ReproError

POSITIVE_INTS = ('train_cfg.max_epochs', 'train_cfg.max_iters', 'train_cfg.val_interval',
                 'train_dataloader.batch_size', 'val_dataloader.batch_size', 'test_dataloader.batch_size')
POSITIVE_NUMBERS = ('optim_wrapper.optimizer.lr',)
# Widths under the detector (a distiller's: its student's), checked where the model has that part.
WIDTHS = ('backbone.base_channels', 'backbone.embed_dims', 'neck.out_channels', 'bbox_head.in_channels',
          'bbox_head.feat_channels', 'rpn_head.in_channels', 'rpn_head.feat_channels',
          'roi_head.bbox_roi_extractor.out_channels', 'roi_head.bbox_head.in_channels',
          'roi_head.bbox_head.fc_out_channels')
WANDB_MODES = ('online', 'offline', 'disabled')
WANDB_MODE_ENV = 'REPRO_WANDB'  # the W&B mode where no --wandb is given (default offline)
MAX_SEED = 2 ** 32 - 1  # mmengine seeds numpy with it too, which takes 0 .. 2**32 - 1
AMP_WRAPPER = 'AmpOptimWrapper'  # --amp: mmdet's tools/train.py sets these two keys
AMP = [f'optim_wrapper.type={AMP_WRAPPER}', '+optim_wrapper.loss_scale=dynamic']
_MISSING = object()


def check_environment(wandb: str | None = None) -> None:
    """Raise a ReproError for a W&B mode, a COCO evaluation backend or an output folder that cannot work here.
    Imports nothing heavy unless $REPRO_COCO_EVAL is set (a warm dry run imports neither torch nor mmengine)."""
    from repro.profiles import REPORTS_ENV, cache_root, default_report_dir
    from repro.runs.store import work_dirs_root
    mode = wandb or os.environ.get(WANDB_MODE_ENV)
    if mode and mode not in WANDB_MODES:
        raise ReproError(f"{'--wandb' if wandb else WANDB_MODE_ENV}={mode}: unknown W&B mode; choose one of "
                         f"{', '.join(WANDB_MODES)}")
    if os.environ.get('REPRO_COCO_EVAL'):
        from repro.evaluation.coco_backend import backend
        backend()
    for name, folder in (('REPRO_WORK_DIRS', work_dirs_root()), ('REPRO_CACHE', cache_root()),
                         (REPORTS_ENV, default_report_dir('tiny').parent)):
        check_writable(folder, name if os.environ.get(name) else None)


def check_writable(folder: str | Path, setting: str | None = None) -> None:
    """A folder the harness writes into: one that exists, or can be made, and that this user may write to.
    setting: the option or environment variable that chose it, named in the message."""
    folder = Path(folder)
    where = f'{setting}={folder}' if setting else str(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ReproError(f'{where}: {existing} is a file, not a folder; choose a folder to write into')
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ReproError(f'{where}: {existing} is not writable by this user; choose a folder you can write to')


def check(compiled) -> None:
    """Raise a ReproError for the first bad setting of the compiled run or of its teacher's run."""
    cfg = compiled.cfg
    _check_int('--seed', cfg.randomness.seed, 0, MAX_SEED)
    _check_settings(cfg, '')
    if cfg.get('evaluate_from') and '://' not in cfg.evaluate_from and not Path(cfg.evaluate_from).is_file():
        raise ReproError(f'checkpoint not found: {cfg.evaluate_from}; check the path (or pass a URL)')
    if (cfg.get('optim_wrapper') or {}).get('type') == AMP_WRAPPER:
        check_amp()
    if compiled.teacher:
        _check_settings(compiled.teacher.cfg, f'teacher {compiled.teacher.config.name}: ')


def _check_settings(cfg, where: str) -> None:
    for key in POSITIVE_INTS:
        _check_int(where + key, _get(cfg, key))
    for key in POSITIVE_NUMBERS:
        value = _get(cfg, key)
        if value is not _MISSING and not (_is_number(value) and value > 0):
            _refuse(where + key, value, 'must be a positive number')
    model = cfg.model.get('student') or cfg.model  # DistillDetector, AssistantHeadDetector: the student's
    for key in WIDTHS:
        _check_int(f'{where}model.{key}', _get(model, key))
    _check_depth(model.get('backbone'), f'{where}model.backbone.depth')


def _check_int(key: str, value, low: int = 1, high: int | None = None) -> None:
    if value is _MISSING:
        return
    if not (isinstance(value, int) and not isinstance(value, bool) and low <= value <= (high or value)):
        _refuse(key, value, f'must be an integer from {low} to {high}' if high else 'must be a positive integer')


def _check_depth(backbone, key: str) -> None:
    """A depth the backbone's mmdet class has settings for (ResNet.arch_settings: 18, 34, 50, 101, 152)."""
    if not backbone or 'depth' not in backbone:
        return
    settings = getattr(_backbone_class(backbone.get('type')), 'arch_settings', None)
    if isinstance(settings, dict) and not any(type(backbone.depth) is type(d) and backbone.depth == d
                                              for d in settings):
        _refuse(key, backbone.depth, f"{_type_name(backbone.get('type'))} supports depths "
                f"{', '.join(map(str, settings))}")


def _backbone_class(kind):
    if isinstance(kind, type):
        return kind
    import mmdet.models.backbones  # noqa: F401  registers mmdet's backbones
    from mmdet.registry import MODELS
    return MODELS.get(kind) if isinstance(kind, str) else None


def _type_name(kind) -> str:
    return kind.__name__ if isinstance(kind, type) else str(kind)


def _get(node, key: str):
    for part in key.split('.'):
        try:
            node = node[part]
        except (KeyError, TypeError):  # no such key, or a parent that is None or no dict
            return _MISSING
    return node


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _refuse(key: str, value, allowed: str):
    raise ReproError(f'{key}={value!r}: {allowed}')


def check_amp() -> None:
    """mmengine's AmpOptimWrapper runs on CUDA (and NPU, MLU, MUSA) devices only."""
    import torch
    if not torch.cuda.is_available():
        raise ReproError(f'--amp (optim_wrapper.type={AMP_WRAPPER}) needs a CUDA GPU, and this machine has none; '
                         'leave --amp out on CPUs')


def check_resume(checkpoint: str, work_dir: Path) -> None:
    """--resume CHECKPOINT: a readable checkpoint of this run's own work dir. Weights from elsewhere would give the
    run a history its key does not say (start from them with load_from=PATH, which is part of the key)."""
    path = Path(checkpoint)
    if not path.is_file():
        raise ReproError(f'--resume {checkpoint}: no such checkpoint file')
    if path.resolve().parent != work_dir.resolve():
        raise ReproError(f"--resume {checkpoint}: not a checkpoint of this run (its work dir is {work_dir}); start "
                         'from other weights with load_from=PATH instead')
    if not os.access(path, os.R_OK):
        raise ReproError(f'--resume {checkpoint}: not readable by this user')


MAX_SEEDS = 100  # a table over more seeds is a typo: planning alone would take hours
# repro.run's (and repro.sweep's) numeric launch options: (flag, attribute, lowest, highest or None).
LAUNCH_NUMBERS = (('--seeds', 'seeds', 1, MAX_SEEDS), ('--jobs', 'jobs', 1, None), ('--gpus', 'gpus', 1, None),
                  ('--nnodes', 'nnodes', 1, None), ('--master-port', 'master_port', 1, 65535),
                  ('--gpus-per-node', 'gpus_per_node', 0, None), ('--nodes', 'nodes', 1, None),
                  ('--time', 'time', 1, None), ('--array-parallelism', 'array_parallelism', 1, None))


def check_launch_options(args) -> None:
    """The launch options of repro.run and repro.sweep, whichever launcher they are for (a typo fails now, not when
    the launcher is switched)."""
    for flag, name, low, high in LAUNCH_NUMBERS:
        value = getattr(args, name, None)
        if value is not None and not low <= value <= (high or value):
            _refuse(flag, value, f'must be an integer from {low} to {high}' if high else
                    f"must be {'a positive integer' if low == 1 else 'an integer from 0'}")
    if getattr(args, 'nnodes', None) and not 0 <= args.node_rank < args.nnodes:
        _refuse('--node-rank', args.node_rank, f'must be from 0 to {args.nnodes - 1} (--nnodes {args.nnodes})')
    for item in getattr(args, 'slurm_arg', None) or ():
        key, sep, _ = item.partition('=')
        if not sep or not key:
            _refuse('--slurm-arg', item, 'write it as key=value, e.g. account=my_lab')
    check_named_folders(args)
    if getattr(args, 'tolerance', None) is not None and args.tolerance < 0:
        _refuse('--tolerance', args.tolerance, 'must be a non-negative number of AP points, e.g. 0.3')


def check_named_folders(args) -> None:
    """An empty --data-root or --work-dir (an unset shell variable, say) is refused, not read as "the default"."""
    for flag in ('--data-root', '--work-dir'):
        if getattr(args, flag.removeprefix('--').replace('-', '_'), None) == '':
            _refuse(flag, '', f'name a folder, or leave {flag} out')


def check_data(runs, profile: str, data_root: str | None) -> None:
    """coco profile: the dataset root of every run (COCO's, or CrowdHuman's) is there and complete."""
    from repro.data.own_dataset import read_description
    from repro.profiles import check_coco_root, check_dataset_root, coco_root, dataset_root
    if profile != 'coco' or read_description(data_root):  # a dataset of one's own: repro.compare validated it
        return
    for name in sorted({run.dataset or '' for run in runs}):
        if name:
            check_dataset_root(name, dataset_root(name, data_root))
        else:
            check_coco_root(coco_root(data_root))

