"""What the figures drawn from models share: which planned runs finished with weights, their detector family,
plain mmdet detectors loaded from those weights, and their predictions on val images.

A run's weights are its `weights.pth` (for a distiller: the plain student's, which loads into the config's
`model.student`), or, for a coco teacher row that evaluated the zoo's weights, that checkpoint once downloaded.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from repro.cli import quiet_mmengine as quiet
from repro.errors import ReproError
from repro.report.figures.figure import Figure
from repro.runs.store import WEIGHTS_FILE, finished, read_record

# mmdet head class -> the detector's name in PGD's figures (the five detectors that have a teacher there)
FAMILIES = {'FCOSHead': 'FCOS', 'ATSSHead': 'ATSS', 'GFLHead': 'GFL', 'AutoAssignHead': 'AutoAssign',
            'DDODHead': 'DDOD'}


def weights_of(run) -> Path | None:
    """The weights of a finished run (repro.plan.dag.PlannedRun), or None while it has none to load."""
    try:
        record = read_record(run.work_dir) if Path(run.work_dir).is_dir() else None
    except ReproError:
        return None
    if not record or record.get('run_key') != run.key or not finished(run.work_dir, record):
        return None
    own = Path(run.work_dir) / WEIGHTS_FILE
    if own.is_file():
        return own
    if record.get('evaluated_from'):
        from repro.training.weights import resolve
        try:
            path = resolve(record['evaluated_from'])
        except ReproError:
            return None
        return path if path.is_file() else None
    return None


def state_of(run) -> str:
    """The store's word for a planned run ('done', 'pending', ...), for notes on what is missing; a finished run
    without weights (a kept record put back with --restore) says so."""
    try:
        status = run.status()
    except ReproError as err:
        return str(err)
    return 'done, but a kept record without weights' if status == 'done' and weights_of(run) is None else status


def plain_model_cfg(run) -> dict:
    """The plain mmdet detector a run's weights load into: the model itself, or a distiller's student."""
    model = run.compiled.cfg.model.to_dict()
    return model['student'] if model.get('type') == 'DistillDetector' else model


def family(run) -> str | None:
    """'FCOS', 'ATSS', 'GFL', 'AutoAssign' or 'DDOD' by the run's (student's) head; None for other detectors."""
    return FAMILIES.get(plain_model_cfg(run).get('bbox_head', {}).get('type'))


def load_detector(run, weights: Path | None = None):
    """The run's plain detector (see plain_model_cfg) with its weights, in eval mode; every parameter and buffer
    must come from the checkpoint."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.config import ConfigDict

    from repro.training.checkpoint import load_checkpoint_file
    register_all_modules()
    weights = weights or weights_of(run)
    if weights is None:
        raise ReproError(f'run {run.key} ({run.config}) has no weights yet: train it first')
    model = MODELS.build(ConfigDict(copy.deepcopy(plain_model_cfg(run))))  # test_cfg.score_thr: attributes
    state = load_checkpoint_file(weights).get('state_dict', {})
    own = model.state_dict()
    bad = sorted(k for k in own if k not in state or state[k].shape != own[k].shape)
    if bad:
        raise ReproError(f'{weights} does not fit the detector of run {run.key} ({len(bad)} keys missing or of '
                         f'another shape, e.g. {bad[0]})')
    model.load_state_dict({k: state[k] for k in own})
    return model.eval()


def gt_boxes(sample) -> np.ndarray:
    """(G, 4) GT boxes x1y1x2y2 of a DetDataSample, as numpy."""
    boxes = sample.gt_instances.bboxes
    return (boxes.tensor if hasattr(boxes, 'tensor') else boxes).detach().cpu().numpy().reshape(-1, 4)


def display_image(item: dict) -> np.ndarray:
    """A val item's image (the pipeline's BGR CHW uint8) as RGB HWC for imshow."""
    return item['inputs'].permute(1, 2, 0).numpy()[:, :, ::-1]


def val_loader(cfg):
    """The run's own val dataloader (its sampler, batch size and collate), as mmengine's Runner builds it."""
    from mmdet.utils import register_all_modules
    from mmengine.runner import Runner
    register_all_modules()
    try:
        with quiet():
            return Runner.build_dataloader(copy.deepcopy(cfg.val_dataloader))
    except OSError as err:
        raise ReproError(f'cannot read the val split: {err}') from err


def val_evaluator(cfg, dataset_meta: dict):
    """A fresh evaluator of the run's val metric (pycocotools' COCO eval through mmdet's CocoMetric, or the metric
    its config's custom_imports register, as the Runner imports them: CrowdHuman's CrowdDetMetric)."""
    from mmdet.utils import register_all_modules
    from mmengine.evaluator import Evaluator
    from mmengine.utils import import_modules_from_strings
    register_all_modules()
    if cfg.get('custom_imports'):
        import_modules_from_strings(**cfg.custom_imports)
    with quiet():  # pycocotools announces loading the annotations
        evaluator = Evaluator(copy.deepcopy(cfg.val_evaluator))
    evaluator.dataset_meta = dataset_meta
    return evaluator


def cached_figure(name: str, title: str, path: Path, sources: list[Path]) -> Figure | None:
    """The figure already drawn at `path` (its caption and data in the .json beside it), if it is newer than
    every file it was drawn from."""
    sidecar = path.with_suffix('.json')
    if not (path.is_file() and sidecar.is_file()):
        return None
    if path.stat().st_mtime < max(p.stat().st_mtime for p in sources):
        return None
    try:
        cached = json.loads(sidecar.read_text())
        return Figure(name, title, path, cached['caption'], cached['data'])
    except (OSError, json.JSONDecodeError, KeyError, TypeError):  # a broken sidecar: draw the figure again
        return None


def save_figure(name: str, title: str, path: Path, caption: str, data: dict) -> Figure:
    path.with_suffix('.json').write_text(json.dumps({'caption': caption, 'data': data}, indent=1))
    return Figure(name, title, path, caption, data)
