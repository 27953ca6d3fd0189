"""Refuse a bad run in one line before any work starts.

`check(compiled)` looks at the resolved config of a run (and of its teacher's run): the schedule, batch sizes,
learning rate, model widths, the backbone's depth, the seed and a checkpoint to evaluate. repro.train calls it
right after compiling, before anything is printed, logged or written. A problem is a ReproError naming the key,
the bad value and what is allowed: `train_cfg.max_epochs=-1: must be a positive integer`.
"""
from __future__ import annotations

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
MAX_SEED = 2 ** 32 - 1  # mmengine seeds numpy with it too, which takes 0 .. 2**32 - 1
_MISSING = object()


def check(compiled) -> None:
    """Raise a ReproError for the first bad setting of the compiled run or of its teacher's run."""
    cfg = compiled.cfg
    _check_int('--seed', cfg.randomness.seed, 0, MAX_SEED)
    _check_settings(cfg, '')
    if cfg.get('evaluate_from') and '://' not in cfg.evaluate_from and not Path(cfg.evaluate_from).is_file():
        raise ReproError(f'checkpoint not found: {cfg.evaluate_from}; check the path (or pass a URL)')
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
