"""A finished run as a plain-mmdet pair: a standalone config and the student's weights, for
`mmdet.apis.DetInferencer(model=CONFIG, weights=CKPT)` or mmdet's own test loop, with no harness installed.

The config is the run's own, minus what only the harness builds: the distiller becomes its student (mmdet's LD
detector becomes the GFL it distils), and the teacher, the KD terms, `custom_imports` and the harness's W&B backend
go. The harness's metrics become mmdet's `CocoMetric` (the CrowdHuman metrics need repro; the export says so in its
notes). Anything else the harness registered stops the export with one line.

Every finished run writes its pair into `<work dir>/export/` (repro.train); `python -m repro.export RUN_DIR OUT_DIR`
writes it for runs that finished before this existed.
"""
from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path

from repro.errors import ReproError

EXPORT_DIR = 'export'
# top-level keys that only the harness reads: a method's teacher and terms, HEAD's assistant, the dataset layers
HARNESS_KEYS = ('custom_imports', 'distill', 'teacher', 'assist', 'dataset', 'own_dataset', 'zoo_checkpoint',
                'evaluate_from', 'resume_from', 'work_dir', 'model_wrapper_cfg')
DISTILLERS = ('DistillDetector', 'AssistantHeadDetector')
MMDET_LD = 'KnowledgeDistillationSingleStageDetector'
LD_ONLY = ('teacher_config', 'teacher_ckpt', 'eval_teacher', 'output_feature')
DROPPED = ('ReproWandbVisBackend',)  # list entries of these types are left out
BN_STATS = ('running_mean', 'running_var', 'num_batches_tracked')


def plain_model(model: dict) -> dict:
    """The model config plain mmdet builds for a run's student."""
    kind = model.get('type')
    if kind in DISTILLERS:
        student = dict(model['student'])
        preprocessor = model.get('data_preprocessor') or student.get('data_preprocessor')
        return {**student, **({'data_preprocessor': preprocessor} if preprocessor else {})}
    if kind == MMDET_LD:  # LDHead is GFLHead plus the KD loss, with the same parameters
        head = {k: v for k, v in model['bbox_head'].items() if k != 'loss_ld'}
        return {**{k: v for k, v in model.items() if k not in LD_ONLY}, 'type': 'GFL',
                'bbox_head': {**head, 'type': 'GFLHead'}}
    return dict(model)


def _harness_types() -> dict[str, str]:
    """Type name -> module, of every class that repro's modules registered into mmdet's and mmengine's registries."""
    import mmdet.registry as mmdet_registry
    from mmengine.registry import Registry
    found = {}
    for registry in vars(mmdet_registry).values():
        if isinstance(registry, Registry):
            for reg in (registry, registry.parent) if registry.parent else (registry,):
                for name, cls in reg.module_dict.items():
                    if cls.__module__.startswith('repro.'):
                        found[name] = cls.__module__
    return found


def _metric(node: dict, notes: list[str]) -> dict:
    """mmdet's CocoMetric for the harness's metrics: its faster-coco-eval subclass gives the same numbers; the
    CrowdHuman metrics have no mmdet equivalent for COCO-format files, so the pair evaluates COCO box AP."""
    kind = node['type']
    if kind == 'CrowdDetMetric':
        notes.append('CrowdDetMetric (AP, MR-2, JI of CrowdHuman) needs repro; the exported config evaluates '
                     "mmdet's CocoMetric (bbox) on the same annotations")
        return {'type': 'CocoMetric', 'ann_file': node['ann_file'], 'metric': 'bbox',
                **({'_scope_': node['_scope_']} if '_scope_' in node else {})}
    return {**node, 'type': 'CocoMetric'}


def _plain(node, path: str, harness: dict[str, str], notes: list[str]):
    """`node` with the harness's types replaced or dropped; a type with no plain equivalent is an error."""
    if isinstance(node, dict):
        kind = node.get('type')
        if kind in ('FasterCocoMetric', 'CrowdDetMetric'):
            return _metric(node, notes)
        if isinstance(kind, str) and kind in harness:
            raise ReproError(f'cannot export: the config builds {kind} ({harness[kind]}) at {path}, which plain mmdet '
                             'does not have')
        return {k: _plain(v, f'{path}.{k}', harness, notes) for k, v in node.items()}
    if isinstance(node, (list, tuple)):
        kept = [v for v in node if not (isinstance(v, dict) and v.get('type') in DROPPED)]
        return type(node)(_plain(v, f'{path}[{i}]', harness, notes) for i, v in enumerate(kept))
    return node


def plain_config(cfg) -> tuple[dict, list[str]]:
    """A run's compiled or dumped config (an mmengine Config) as a plain-mmdet config dict, and notes on what the
    export changed beyond removing the harness."""
    notes: list[str] = []
    plain = {k: v for k, v in cfg.to_dict().items() if k not in HARNESS_KEYS}
    plain['model'] = plain_model(plain['model'])
    plain['env_cfg'] = {k: v for k, v in plain.get('env_cfg', {}).items() if k != 'torch_threads'}
    if isinstance(plain.get('visualizer'), dict):
        plain['visualizer'] = {k: v for k, v in plain['visualizer'].items() if k != 'name'}  # the run's own name
    # mmdet's test loop evaluates the split the run's AP was measured on (the harness validates, it never tests)
    plain.update(load_from=None, resume=False, launcher='none')
    plain.update({f'test_{part}': plain[f'val_{part}'] for part in ('dataloader', 'evaluator')
                  if f'val_{part}' in plain})
    plain.setdefault('default_scope', 'mmdet')
    plain = _plain(plain, 'cfg', _harness_types(), notes)
    return plain, list(dict.fromkeys(notes))  # val and test evaluators: one note


def dataset_meta(cfg) -> dict:
    """The classes of the run's val split, as mmdet's DetInferencer reads them from a checkpoint's meta."""
    from mmdet.registry import DATASETS
    dataset = cfg['val_dataloader']['dataset']
    while 'dataset' in dataset:  # RepeatDataset, ClassBalancedDataset, ...
        dataset = dataset['dataset']
    classes = (dataset.get('metainfo') or {}).get('classes') or DATASETS.get(dataset['type']).METAINFO['classes']
    return {'classes': list(classes)}


def checkpoint_stats(path: str | Path) -> dict:
    """A checkpoint's parameter count in millions (its tensors other than BatchNorm statistics, each stored tensor
    once: RTMDet's levels share their convs, which its state dict names once per level), which is what
    `model.parameters()` counts for mmdet's detectors, and its file size in MB."""
    from repro.training.checkpoint import load_checkpoint_file
    ckpt = load_checkpoint_file(path)
    return _stats(ckpt.get('state_dict', ckpt), path)


def _stats(state: dict, path: str | Path) -> dict:
    """checkpoint_stats of a state dict already read from `path`."""
    tensors = {(v.untyped_storage().data_ptr(), v.storage_offset(), tuple(v.shape)): v.numel()
               for k, v in state.items() if hasattr(v, 'numel') and not k.endswith(BN_STATS)}
    return {'params_m': round(sum(tensors.values()) / 1e6, 3),
            'size_mb': round(Path(path).stat().st_size / 2 ** 20, 2)}


def _write_weights(source: Path, target: Path, meta: dict) -> dict:
    """The weights with the classes in their meta: a hard link when the file has them already, else a copy;
    returns their state dict, read once."""
    import io

    import torch

    from repro.training.checkpoint import load_checkpoint_file
    from repro.runs.atomic import atomic_write_bytes
    ckpt = load_checkpoint_file(source)
    state = ckpt.get('state_dict', ckpt)
    target.unlink(missing_ok=True)
    if (ckpt.get('meta') or {}).get('dataset_meta') == meta['dataset_meta']:
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)
        return state
    buffer = io.BytesIO()
    torch.save({'state_dict': state, 'meta': {**(ckpt.get('meta') or {}), **meta}}, buffer)
    atomic_write_bytes(target, buffer.getvalue())
    return state


def teacher_reference(cfg) -> str | None:
    """The teacher checkpoint a run distilled from, as its config names it (None for a plain run)."""
    model = cfg['model']
    teacher = cfg.get('teacher') or {}
    return model.get('teacher_checkpoint') or model.get('teacher_ckpt') or teacher.get('checkpoint') or None


def write_pair(cfg, weights: str | Path, out_dir: str | Path, name: str, teacher: str | None = None) -> dict:
    """Write `<out_dir>/<name>.py` and `<name>.pth`; returns what the record keeps: their paths, the student's
    and (where its checkpoint is at hand) the teacher's parameters and file size, and the export's notes."""
    from mmengine.config import Config

    from repro.training.weights import local_file
    plain, notes = plain_config(cfg)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    config_path, weights_path = out_dir / f'{name}.py', out_dir / f'{name}.pth'
    Config(plain).dump(str(config_path))
    state = _write_weights(Path(weights), weights_path, {'dataset_meta': dataset_meta(cfg)})
    stats = {'student': _stats(state, weights_path)}
    teacher = teacher or teacher_reference(cfg)
    if teacher and local_file(teacher).is_file():
        stats['teacher'] = checkpoint_stats(local_file(teacher))
    return {'config': str(config_path), 'weights': str(weights_path), **stats, **({'notes': notes} if notes else {})}


def export_run(run_dir: str | Path, out_dir: str | Path) -> dict:
    """The pair of a finished run in `run_dir`, from the config mmengine dumped there and its final weights."""
    from mmengine.config import Config

    from repro.runs.store import WEIGHTS_FILE, read_record
    run_dir = Path(run_dir)
    record = read_record(run_dir) if run_dir.is_dir() else None
    if record is None:
        raise ReproError(f'{run_dir} is not a run directory (no readable result.json)')
    if record.get('status') != 'done' or not (run_dir / WEIGHTS_FILE).is_file():
        raise ReproError(f'{run_dir}: the run is {record.get("status")}, not finished with {WEIGHTS_FILE}; '
                         'only a finished training run has student weights to export')
    name = Path(record['config']).stem
    dumped = run_dir / f'{name}.py'
    if not dumped.is_file():
        raise ReproError(f'{run_dir}: the config mmengine dumped ({dumped.name}) is missing')
    from mmdet.utils import register_all_modules
    register_all_modules()
    for module in ('repro.distill', 'repro.evaluation'):  # the harness's types, for the dumped config's types
        importlib.import_module(module)
    return write_pair(Config.fromfile(str(dumped)), run_dir / WEIGHTS_FILE, out_dir, name)


def describe(info: dict) -> str:
    """'student 10.2M params, 39 MB; teacher 51.3M params, 196 MB' for a distilled run; a run without a teacher
    (a plain student, or a teacher row) exported one detector: 'model 51.3M params, 196 MB'."""
    names = {'student': 'student' if 'teacher' in info else 'model', 'teacher': 'teacher'}
    return '; '.join(f"{names[who]} {info[who]['params_m']:g}M params, {info[who]['size_mb']:g} MB"
                     for who in ('student', 'teacher') if who in info)


