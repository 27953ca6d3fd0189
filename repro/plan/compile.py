"""The one place that compiles a model config, a profile and overrides into an mmengine config.

`compile_config` returns a `Compiled`: the mmengine Config ready for `Runner.from_cfg`, and the run key, a
hash of the resolved config with machine-specific paths replaced by a label, so the same run gets the same
key on every machine.
"""
from __future__ import annotations

import copy
import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.errors import ReproError
from repro.runs.store import WEIGHTS_FILE, default_work_dir
from repro.profiles import CONFIG_DIR, check_coco_root, check_dataset_root, coco_root, dataset_root, profile_file

# Teacher configs: the tiny profile trains them for at least its `teacher_min_epochs` (configs/profiles/tiny.py).
TEACHERS = CONFIG_DIR / 'teachers'
MMDET_KD_DETECTOR = 'KnowledgeDistillationSingleStageDetector'  # mmdet's own LD detector
SPLIT_LOADERS = (('train_dataloader', None), ('val_dataloader', 'val_evaluator'),
                 ('test_dataloader', 'test_evaluator'))
# A run's intra-op threads (env_cfg.torch_threads, in the run key: the count changes the sums' order, so the bits).
# Never the machine's core count, so a key means the same numbers everywhere; 1 keeps `--jobs N` on N cores from
# oversubscribing, and the tiny profile's small tensors gain little from more threads.
TORCH_THREADS = 1


@dataclass
class Compiled:
    cfg: Any  # mmengine.config.Config
    run_key: str
    profile: str
    config: Path
    teacher: 'Compiled | None' = None  # the teacher's own run, for distillation configs

    @property
    def teacher_checkpoint(self) -> str | None:
        return self.cfg.model.get(_teacher_ckpt_key(self.cfg.model)) if self.teacher else None

    @property
    def teacher_trained_here(self) -> bool:
        """Whether the teacher's weights come from the teacher's own run in this harness, which trains it first."""
        return self.teacher is not None and self.teacher_checkpoint == str(_own_weights(self.teacher))


def load_config(path: str | Path):
    """Read an mmengine config file. Config files are Python and run as code: only pass trusted files."""
    path = Path(path)
    if not path.is_file():
        examples = sorted(str(p.relative_to(CONFIG_DIR.parent)) for p in CONFIG_DIR.glob('*/*.py')
                          if p.parent.name not in ('profiles', 'datasets'))
        hint = ', '.join(examples[:4])
        raise ReproError(f'config not found: {path}; pass a file under configs/ (for example {hint})')
    stat = path.resolve().stat()
    return copy.deepcopy(_read_config(str(path.resolve()), stat.st_mtime_ns, stat.st_size))


@functools.lru_cache(maxsize=256)
def _read_config(path: str, mtime_ns: int, size: int):
    """Config.fromfile, once per file version: resolving mmdet:: bases costs about a second, and planning a table
    compiles the same teacher and profile configs again and again. Callers get deep copies."""
    from unittest import mock

    from mmengine.config import Config, config
    try:  # mmengine resolves each `mmdet::` base once per process (see _external_cfg_path)
        with mock.patch.multiple(config, _get_external_cfg_path=_external_cfg_path, is_installed=_is_installed):
            return Config.fromfile(path)
    except Exception as err:  # a config is user code: any error in it is the user's to fix
        raise ReproError(f'cannot read config {path}: {type(err).__name__}: {err}') from err


@functools.lru_cache(maxsize=None)
def _is_installed(package: str) -> bool:
    from mmengine.utils import is_installed
    return is_installed(package)


def _external_cfg_path(package_path: str, cfg_file: str) -> str:
    """mmengine's lookup of an `mmdet::` base, memoized: for each base of each config it reloads pkg_resources to
    see that mmdet is installed (0.04 s, _is_installed) and reads every metafile of mmdet (about 100 YAML files,
    0.4 s); the answers depend only on the installed packages."""
    path, error = _external_lookup(package_path, cfg_file)
    if error:
        raise error  # mmengine's ValueError for a base config without a metafile entry, which it then handles
    return path


@functools.lru_cache(maxsize=None)
def _external_lookup(package_path: str, cfg_file: str) -> tuple[str | None, ValueError | None]:
    from mmengine.config.utils import _get_external_cfg_path
    try:
        return _get_external_cfg_path(package_path, cfg_file), None
    except ValueError as err:
        return None, err


def compile_config(config: str | Path, profile: str, overrides: list[str] | None = None,
                   data_root: str | None = None, seed: int = 0, check_data: bool = True,
                   evaluate_from: str | None = None) -> Compiled:
    """check_data=False compiles a coco-profile run on a machine without the dataset (planning, --dry-run).
    evaluate_from: a checkpoint (path or URL) that the run evaluates instead of training (a zoo teacher's row)."""
    cfg = load_config(config)
    dataset = _apply_dataset(cfg)
    prof = load_config(profile_file(profile))
    _merge_profile(cfg, prof.get('overrides', {}).to_dict())
    if prof.get('base_gpus'):  # the batch the config's LR is for: its GPUs x its own images per GPU, not the user's
        cfg.auto_scale_lr.base_batch_size = prof.base_gpus * cfg.train_dataloader.batch_size
    relative = prof.get('relative_widths', {}).get(cfg.model.get('backbone', {}).get('type'))
    for part, narrow in prof.get('parts', {}).items():
        if cfg.model.get(part) and not (relative and part in RELATIVE_PARTS):
            cfg.merge_from_dict({f'model.{part}': narrow.to_dict()})
    if 'backbones' in prof:
        _narrow_backbone(cfg.model.backbone, prof.backbones, profile)
    if relative:
        _scale_widths(cfg.model, relative)
    head = cfg.model.get('bbox_head') or {}
    if head.get('type') in prof.get('heads', {}):
        head.update(prof.heads[head.type].to_dict())
    if 'teacher' in cfg:  # the keys a user may override; an explicit checkpoint is part of the run's identity
        cfg.teacher = {'checkpoint': None, 'overrides': [], **cfg.teacher}
    cfg.env_cfg = {'torch_threads': TORCH_THREADS, **cfg.get('env_cfg', {})}
    user_keys = apply_overrides(cfg, overrides or [], Path(config).name)
    if 'distill' in cfg:
        _resolve_variant(cfg, overrides or [], Path(config).name)
    _sync_backbone(cfg.model)  # after the user's overrides: what derives from the backbone's depth follows it
    own = _own_dataset(data_root, dataset, config)
    if profile == 'tiny':
        root, label = _apply_tiny(cfg, prof, user_keys, dataset, teacher=Path(config).resolve().parent == TEACHERS,
                                  own=own)
    elif own:
        root, label = _apply_own(cfg, own)
    elif dataset:
        root, label = dataset_root(dataset, data_root), dataset
        if check_data:
            check_dataset_root(dataset, root)
        _set_data_root(cfg, root)
    else:
        root = coco_root(data_root)  # --data-root, else $REPRO_COCO_ROOT, else data/coco
        if check_data:
            check_coco_root(root)
        _set_data_root(cfg, root)
        label = 'coco'
    _check_threads(cfg.env_cfg.torch_threads)
    cfg.randomness = dict(seed=seed, deterministic=True)  # mmengine: torch's deterministic algorithms, cuDNN's
    if evaluate_from:
        if 'teacher' in cfg:
            raise ReproError(f'{Path(config).name} is a distillation config: evaluate a checkpoint with the config '
                             'of its detector (configs/detectors/ or configs/teachers/)')
        cfg.evaluate_from = evaluate_from  # part of the run's identity: evaluating weights is not training them
        # no checkpoint to keep: mmengine's CheckpointHook sets up its save_best (the coco profile's) in before_train
        cfg.default_hooks.checkpoint.pop('save_best', None)
    teacher = _attach_teacher(cfg, profile, data_root, check_data) if 'teacher' in cfg else None
    blob = json.dumps(cfg.to_dict(), sort_keys=True, default=str, ensure_ascii=False)  # a path as written
    for path, name in _machine_paths(root, label, own):  # the longest first: a root may hold the others
        blob = blob.replace(path, f'<{name}>')
    compiled = Compiled(cfg, hashlib.sha256(blob.encode()).hexdigest()[:12], profile, Path(config), teacher)
    if teacher:  # the checkpoint path is machine-specific, so it is set after hashing (the teacher's key is in)
        ckpt = cfg.teacher.get('checkpoint') or _default_teacher_checkpoint(teacher)
        cfg.model[_teacher_ckpt_key(cfg.model)] = ckpt
    return compiled


def _own_dataset(data_root: str | None, dataset: str | None, config) -> dict | None:
    """The description of a dataset of one's own in the data root (repro.data.own_dataset), or None."""
    from repro.data.own_dataset import read_description
    own = read_description(data_root)
    if own and dataset:
        raise ReproError(f"{Path(config).name} names its own dataset ('{dataset}', configs/datasets/); a "
                         'dataset of your own needs a config on COCO-format data, e.g. configs/detectors/gfl_r50.py')
    return own


def _apply_own(cfg, own: dict) -> tuple[Path, str]:
    """Point the loaders and evaluators at a dataset of one's own (its described files), set its classes and
    num_classes; mmdet's zoo weights (COCO's classes) are no teacher for it, so teachers train here."""
    classes = tuple(own['classes'])
    for loader, evaluator in SPLIT_LOADERS:
        split = own['train' if loader == 'train_dataloader' else 'val']
        ds = _leaf_dataset(cfg[loader])
        ds.data_root = ''
        ds.ann_file = split['ann_file']
        ds.data_prefix = dict(img=split['images'].rstrip('/') + '/')
        ds.metainfo = dict(classes=classes)
        if evaluator and evaluator in cfg:
            cfg[evaluator].ann_file = split['ann_file']
    _set_num_classes(cfg.model, len(classes))
    cfg.zoo_checkpoint = None
    cfg.own_dataset = dict(fingerprint=own['fingerprint'], classes=list(classes))  # in the run key, not the paths
    return Path(own['root']), f"own-{own['fingerprint']}"


def _machine_paths(root: Path, label: str, own: dict | None) -> list[tuple[str, str]]:
    """(path, placeholder) pairs that the run key reads as placeholders, longest path first."""
    pairs = [(str(root), label)]
    if own:
        pairs += [(own[split][part].rstrip('/'), f'{split}-{part}') for split in ('train', 'val')
                  for part in ('ann_file', 'images')]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _check_threads(threads) -> None:
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise ReproError(f'env_cfg.torch_threads is {threads!r}: give a positive whole number, e.g. '
                         f'env_cfg.torch_threads={TORCH_THREADS}')


def torch_threads(overrides) -> int:
    """The thread count a run's overrides set (env_cfg.torch_threads=N), else the default: for launchers, which
    start a run's process before its config is compiled (repro.train pins torch to the compiled value)."""
    for item in reversed(overrides):  # the last one wins, as in apply_overrides
        key, _, raw = item.partition('=')
        if key.lstrip('+') == 'env_cfg.torch_threads':
            value = _parse_value(raw)
            _check_threads(value)
            return value
    return TORCH_THREADS


def _resolve_variant(cfg, overrides: list[str], source: str) -> None:
    """Apply the method's distill.variant (repro.distill.terms.resolve_variant), then the user's own distill
    overrides again: `distill.variant=paper distill.terms.cls.guide.k=9` is the paper variant at K = 9."""
    from repro.distill.terms import resolve_variant
    cfg.distill = resolve_variant({'variants': {}, **cfg.distill.to_dict()})
    keys = [o.lstrip('+') for o in overrides]
    apply_overrides(cfg, [o for o, k in zip(overrides, keys)
                          if k.startswith('distill.') and not k.startswith('distill.variants.')], source)


def _teacher_ckpt_key(model) -> str:
    return 'teacher_ckpt' if model.get('type') == MMDET_KD_DETECTOR else 'teacher_checkpoint'


def _attach_teacher(cfg, profile: str, data_root: str | None, check_data: bool = True) -> 'Compiled':
    """Compile the teacher of a method config as its own run and attach it to the model config.

    A method config is a student config plus `teacher = dict(config=...)` and either `distill` (our
    DistillDetector) or a model of mmdet's own KD detector type (LD), which takes the teacher as a config dict.
    """
    spec = cfg.get('teacher') or {}
    if 'config' not in spec:
        raise ReproError("a distillation config needs teacher = dict(config='configs/teachers/...py')")
    path = Path(spec['config'])
    path = path if path.is_absolute() else CONFIG_DIR.parent / path
    overrides = spec.get('overrides', [])
    if not isinstance(overrides, (list, tuple)) or not all(isinstance(o, str) for o in overrides):
        raise ReproError(f'teacher.overrides must be a list of key=value strings, quoted inside the list, e.g. '
                         f'"teacher.overrides=[\'train_cfg.max_epochs=48\']"; got {overrides!r}')
    teacher = compile_config(path, profile, list(overrides), data_root=data_root, check_data=check_data)
    cfg.teacher.run_key = teacher.run_key
    if cfg.model.get('type') == MMDET_KD_DETECTOR:
        _check_ld_pair(cfg.model, teacher.cfg.model)
        cfg.model.teacher_config = dict(model=teacher.cfg.model.to_dict())
        return teacher
    if 'assist' in cfg:  # HEAD: an assistant head instead of KD terms (repro/distill/assistant.py)
        cfg.model = dict(type='AssistantHeadDetector', student=cfg.model.to_dict(),
                         teacher=teacher.cfg.model.to_dict(), assist=cfg.assist.to_dict())
    elif 'distill' in cfg:
        cfg.model = dict(type='DistillDetector', student=cfg.model.to_dict(), teacher=teacher.cfg.model.to_dict(),
                         distill=cfg.distill.to_dict())
    else:
        raise ReproError('a distillation config needs `distill = dict(terms=...)` (see repro/distill/terms.py) '
                         'or `assist = dict(...)` (HEAD, repro/distill/assistant.py)')
    imports = [*cfg.get('custom_imports', {}).get('imports', []), 'repro.distill']  # keep the dataset's metric
    cfg.custom_imports = dict(imports=imports, allow_failed_imports=False)
    return teacher


LD_HEADS = ('GFLHead', 'LDHead')  # heads whose box branch is GFL's distribution over {0..reg_max} per edge


def _check_ld_pair(student, teacher) -> None:
    """mmdet's LD distils GFL's edge distributions: its LDHead extends GFLHead, and the teacher's head must predict
    the same distributions. Any other student (RTMDet, FCOS, ... regress one distance per edge) is refused in one
    line here, before mmdet would fail on the head's arguments."""
    head = student.get('bbox_head') or {}
    if 'loss_dfl' not in head or 'reg_max' not in head:  # what a GFL head config has and the others lack
        raise ReproError('LD (mmdet\'s LDHead) distils GFL\'s edge distributions and needs a GFL student; this '
                         'student\'s head regresses one value per edge: use a GFL student or a method written as '
                         'repro terms (CrossKD, PGD, PKD, FGD, DeFeat)')
    t_head = (teacher.get('bbox_head') or {}).get('type')
    if t_head not in LD_HEADS:
        raise ReproError(f'LD (mmdet\'s LDHead) needs a teacher that predicts GFL\'s edge distributions; the teacher '
                         f'has a {t_head}: use a GFL teacher')


def _default_teacher_checkpoint(teacher: 'Compiled') -> str:
    """coco: the mmdet zoo's weights where the zoo has them; otherwise (and always in tiny) the teacher run's own
    final weights, which repro.train and repro.run train first."""
    if teacher.profile == 'coco' and teacher.cfg.get('zoo_checkpoint'):
        return teacher.cfg.zoo_checkpoint
    return str(_own_weights(teacher))


def _own_weights(teacher: 'Compiled') -> Path:
    return default_work_dir(teacher.config, teacher.profile, teacher.run_key) / WEIGHTS_FILE


def _apply_dataset(cfg) -> str | None:
    """Merge a dataset layer (`dataset = dict(name, classes, overrides)`, configs/datasets/) over the config and
    set its classes; returns its name, or None for a config on its own (COCO) data."""
    layer = cfg.get('dataset')
    if not layer:
        return None
    if 'model' not in cfg or any(loader not in cfg for loader, _ in SPLIT_LOADERS):
        raise ReproError(f"dataset layer '{layer.get('name')}' alone is no run: list it in the _base_ of a model "
                         "config (for example configs/detectors/ddod_r50_crowdhuman.py)")
    overrides = layer.pop('overrides', None)
    if overrides:
        _merge_profile(cfg, overrides.to_dict())
    for loader, _ in SPLIT_LOADERS:
        _leaf_dataset(cfg[loader]).metainfo = dict(classes=tuple(layer.classes))
    _set_num_classes(cfg.model, len(layer.classes))
    return layer.name


def _apply_tiny(cfg, prof, user_keys: set[str], dataset: str | None = None,
                teacher: bool = False, own: dict | None = None) -> tuple[Path, str]:
    """own: a dataset of one's own (repro.data.own_dataset) instead of the synthetic one, with the profile's
    narrow models, small images and schedule all the same."""
    from repro.data.synthetic import SyntheticSpec, ensure_dataset
    stand_ins = prof.get('synthetic_for', {})
    if dataset and dataset not in stand_ins:
        raise ReproError(f"the tiny profile has no synthetic stand-in for dataset '{dataset}': add one to "
                         'synthetic_for in configs/profiles/tiny.py')
    if own:
        root, label = _apply_own(cfg, own)
    else:
        spec = SyntheticSpec(**{**prof.synthetic, **(stand_ins[dataset] if dataset else {})})
        root, label = ensure_dataset(spec), f'synthetic-{spec.key()}'
        _set_data_root(cfg, root, classes=spec.classes)
        _set_num_classes(cfg.model, len(spec.classes))
    if not any(k.startswith('param_scheduler') for k in user_keys):
        for sched in cfg.get('param_scheduler', []):
            # an iteration warm-up, linear (most detectors) or constant (FCOS: a third of the LR for 500
            # iterations, which would be 500 of the tiny profile's 600)
            if sched.get('type') in ('LinearLR', 'ConstantLR') and not sched.get('by_epoch', True):
                sched.end = prof.warmup_iters
    if 'assist' in cfg and not any(k.startswith('assist.warmup_iters') for k in user_keys):
        cfg.assist.warmup_iters = prof.warmup_iters  # HEAD's mimic ramp is an iteration warm-up too
    for name, term in (cfg.get('distill', {}).get('terms') or {}).items():  # so are KD terms' ramps (FRS's 500)
        if term.get('warmup_iters') and f'distill.terms.{name}.warmup_iters' not in user_keys:
            term.warmup_iters = prof.warmup_iters
    if not any(k.startswith(('param_scheduler', 'train_cfg.max_epochs')) for k in user_keys):
        _shrink_schedule(cfg, prof.get('long_schedule'), teacher)
    if teacher and not any(k.startswith(('param_scheduler', 'train_cfg.max_epochs')) for k in user_keys):
        _stretch_schedule(cfg, prof.get('teacher_min_epochs'))
    for hook in cfg.get('custom_hooks', []):  # RTMDet's second-stage pipeline: the tiny one
        if hook.get('type') == 'PipelineSwitchHook':
            hook.switch_pipeline = copy.deepcopy(_leaf_dataset(cfg.train_dataloader).pipeline)
    preprocessor = cfg.model.get('data_preprocessor') or {}
    for augment in preprocessor.get('batch_augments') or []:  # YOLOX's multi-scale batches, at the tiny sizes
        if augment.get('type') == 'BatchSyncRandomResize' and 'batch_resize' in prof:
            augment.update(prof.batch_resize.to_dict())
    if cfg.train_cfg.get('type') == 'EpochBasedTrainLoop' and 'train_cfg.val_interval' not in user_keys:
        cfg.train_cfg.val_interval = cfg.train_cfg.max_epochs  # evaluate once, at the end
        cfg.train_cfg.pop('dynamic_intervals', None)  # RTMDet's: every epoch of its second stage
    return root, label


def _stretch_schedule(cfg, epochs: int | None) -> None:
    """Train an epoch-based config for at least `epochs` epochs, its epoch-based LR steps stretched with it:
    a 1x schedule (MultiStepLR at [8, 11] of 12) becomes mmdet's 2x ([16, 22] of 24)."""
    old = cfg.train_cfg.get('max_epochs')
    if not epochs or cfg.train_cfg.get('type') != 'EpochBasedTrainLoop' or old >= epochs:
        return
    cfg.train_cfg.max_epochs = epochs
    for sched in cfg.get('param_scheduler', []):
        if sched.get('by_epoch', True):
            for key in ('begin', 'end', 'T_max'):
                if key in sched:
                    sched[key] = round(sched[key] * epochs / old)
            if 'milestones' in sched:
                sched.milestones = [round(m * epochs / old) for m in sched.milestones]


def _merge_profile(cfg, overrides: dict) -> None:
    """Merge a profile's overrides; a loader's `dataset` settings go to the innermost dataset, not a wrapper. A
    profile's pipeline is the whole pipeline: a wrapper's own transforms (YOLOX's MultiImageMixDataset: Mosaic,
    RandomAffine, MixUp at 640 px) are cleared; the wrapper stays, for the hooks that talk to it
    (YOLOXModeSwitchHook's update_skip_type_keys)."""
    for loader, _ in SPLIT_LOADERS:
        dataset = overrides.get(loader, {}).pop('dataset', None)
        if dataset and loader in cfg:
            _leaf_dataset(cfg[loader]).update(dataset)
            wrapper = cfg[loader].dataset
            while 'pipeline' in dataset and 'dataset' in wrapper:
                if 'pipeline' in wrapper:
                    wrapper.pipeline = []
                wrapper = wrapper.dataset
    cfg.merge_from_dict(overrides)


def _leaf_dataset(loader_cfg):
    ds = loader_cfg.dataset
    while 'dataset' in ds:  # RepeatDataset and other wrappers
        ds = ds.dataset
    return ds


def _set_data_root(cfg, root: Path, classes: tuple[str, ...] | None = None) -> None:
    for loader, evaluator in SPLIT_LOADERS:
        ds = _leaf_dataset(cfg[loader])
        ds.data_root = str(root) + '/'
        if classes:
            ds.metainfo = dict(classes=classes)
        if evaluator and evaluator in cfg:
            cfg[evaluator].ann_file = str(root / ds.ann_file)


def _set_num_classes(node, n: int) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == 'num_classes':
                node[key] = n
            else:
                _set_num_classes(value, n)
    elif isinstance(node, list):
        for item in node:
            _set_num_classes(item, n)


RELATIVE_PARTS = ('neck', 'bbox_head')  # the parts a profile's relative_widths scales instead of setting them


def _scale_widths(model, factor: float) -> None:
    """The backbone's widen_factor, the neck's out_channels and the head's in/feat_channels times `factor` (a
    profile's relative_widths), and SyncBN made BN in the three (a tiny run has one process)."""
    model.backbone.widen_factor = model.backbone.get('widen_factor', 1.0) * factor
    neck, head = model.get('neck'), model.get('bbox_head')
    if neck and 'out_channels' in neck:
        neck.out_channels = max(8, round(neck.out_channels * factor))
    if head:
        for key in ('in_channels', 'feat_channels'):
            if key in head:
                head[key] = max(8, round(head[key] * factor))
    for part in (model.backbone, neck, head):
        if part and (part.get('norm_cfg') or {}).get('type') == 'SyncBN':
            part.norm_cfg = dict(part.norm_cfg, type='BN')


def _shrink_schedule(cfg, long: dict | None, teacher: bool = False) -> None:
    """A schedule of more than long['over'] epochs (YOLO-style, RTMDet's and YOLOX's 300) shortened to
    long['epochs'] (a teacher's: long['teacher_epochs'] where given), with its epoch-based LR steps,
    PipelineSwitchHook's switch epoch, YOLOXModeSwitchHook's last epochs and the dynamic validation intervals scaled
    alike."""
    old = cfg.train_cfg.get('max_epochs')
    if not long or cfg.train_cfg.get('type', 'EpochBasedTrainLoop') != 'EpochBasedTrainLoop' or not old \
            or old <= long['over']:
        return
    new = long.get('teacher_epochs', long['epochs']) if teacher else long['epochs']

    def scaled(epoch):
        return max(1, round(epoch * new / old))
    cfg.train_cfg.max_epochs = new
    for sched in cfg.get('param_scheduler', []):
        if sched.get('by_epoch', True):
            for key in ('begin', 'end', 'T_max'):
                if key in sched:
                    sched[key] = scaled(sched[key]) if sched[key] else 0
            if 'milestones' in sched:
                sched.milestones = [scaled(m) for m in sched.milestones]
    for hook in cfg.get('custom_hooks', []):
        if 'switch_epoch' in hook:
            hook.switch_epoch = scaled(hook.switch_epoch)
        if 'num_last_epochs' in hook:  # YOLOXModeSwitchHook: the last epochs without Mosaic/MixUp, with the L1 loss
            hook.num_last_epochs = scaled(hook.num_last_epochs)
    if cfg.train_cfg.get('dynamic_intervals'):
        cfg.train_cfg.dynamic_intervals = [(scaled(e), i) for e, i in cfg.train_cfg.dynamic_intervals]


def _narrow_backbone(backbone, narrow, profile: str) -> None:
    kind = backbone.get('type')
    if kind not in narrow:
        raise ReproError(f"the {profile} profile has no narrow setting for backbone type {kind}: add one to "
                         f"backbones in configs/profiles/{profile}.py (it has {', '.join(narrow)})")
    backbone.update(narrow[kind].to_dict())  # key by key: the narrow values replace the config's


def _backbone_widths(backbone) -> list[int] | None:
    """Output channels of the backbone stages the FPN reads, for the backbone types the profiles narrow."""
    kind, out = backbone.get('type'), backbone.get('out_indices')
    if kind == 'ResNet':
        expansion = 1 if backbone.depth in (18, 34) else 4
        return [backbone.get('base_channels', 64) * expansion * 2 ** i for i in out or (0, 1, 2, 3)]
    if kind == 'SwinTransformer':
        return [backbone.get('embed_dims', 96) * 2 ** i for i in out or (0, 1, 2, 3)]
    if kind in ('CSPNeXt', 'CSPDarknet'):  # RTMDet's, YOLOX's: the same stage table layout
        from mmdet.models.backbones.csp_darknet import CSPDarknet
        from mmdet.models.backbones.cspnext import CSPNeXt
        stages = {'CSPNeXt': CSPNeXt, 'CSPDarknet': CSPDarknet}[kind].arch_settings[backbone.get('arch', 'P5')]
        widen = backbone.get('widen_factor', 1.0)
        return [int(stages[i - 1][1] * widen) for i in out or (2, 3, 4)]
    if kind == 'MobileNetV2':
        from mmdet.models.backbones.mobilenet_v2 import MobileNetV2
        from mmdet.models.utils import make_divisible
        widen = backbone.get('widen_factor', 1.0)
        stages = [make_divisible(c * widen, 8) for _, c, _, _ in MobileNetV2.arch_settings]
        last = int(1280 * widen) if widen > 1.0 else 1280
        return [(stages + [last])[i] for i in out or (1, 2, 4, 7)]
    return None


def _sync_backbone(model) -> None:
    """Make what depends on the backbone follow it: the FPN's input widths, and for a ResNet the name of the
    ImageNet checkpoint (torchvision://resnet50 -> torchvision://resnet18 for a depth-18 student)."""
    backbone, neck = model.get('backbone', {}), model.get('neck')
    try:
        widths = _backbone_widths(backbone)
    except (TypeError, ValueError):  # a width that is no number: repro.plan.validate refuses it in one line
        widths = None
    if widths and neck and 'in_channels' in neck:
        neck.in_channels = widths
    init = backbone.get('init_cfg') or {}
    if backbone.get('type') == 'ResNet' and isinstance(init.get('checkpoint'), str):
        init.checkpoint = re.sub(r'resnet\d+', f'resnet{backbone.depth}', init.checkpoint)


def apply_overrides(cfg, overrides: list[str], source: str) -> set[str]:
    """Apply `a.b.c=value` overrides. A key must already exist in the config, unless written `+a.b.c=value`."""
    flat = _flat_keys(cfg.to_dict())
    parsed = {}
    for item in overrides:
        key, sep, raw = item.partition('=')
        adding = key.startswith('+')
        key = key.lstrip('+')
        if not sep or not key:
            raise ReproError(f"bad override '{item}': write it as key=value, for example train_cfg.max_epochs=6")
        if not adding and key not in flat:
            import difflib
            close = difflib.get_close_matches(key, flat, n=3)
            hint = f"; did you mean {' or '.join(close)}?" if close else ''
            hint += f' (write +{key}=... to add a new key)'
            raise ReproError(f"unknown override key '{key}': no such key in {source}{hint}")
        parsed[key] = _parse_value(raw)
    cfg.merge_from_dict(parsed)
    return set(parsed)


def _flat_keys(node, prefix: str = '') -> set[str]:
    keys = set()
    if isinstance(node, dict):
        for key, value in node.items():
            path = f'{prefix}{key}'
            keys.add(path)
            keys |= _flat_keys(value, path + '.')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            keys |= _flat_keys(value, f'{prefix}{i}.')
    return keys


def _parse_value(raw: str):
    import ast
    try:
        return ast.literal_eval(raw)
    except (ValueError, SyntaxError):
        return raw  # a bare word is a string
