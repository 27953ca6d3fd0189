"""CrossKD's gradient figure: |∂L_KD/∂F| on the student's head features F at the distilled layer, for feature
imitation (PKD on the head features) and for CrossKD (the student's features through the teacher's head), on the
same val images, from the harness's own checkpoints.

The losses are the real ones: each method is a DistillDetector (repro.distill.detector) built from the table's
CrossKD run config, so its KD terms, loss modules and the teacher's frozen layers are those of training; PKD
swaps in the KD terms of configs/methods/pkd_head_gfl.py at the same layer, student and teacher. The feature F is
tapped with forward hooks where the head adapter keeps it (repro/distill/adapters/base.py: the output of tower
layer i-1 before its activation, or the FPN output for layer 0), and ∂L_KD/∂F comes from autograd.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from repro.errors import ReproError
from repro.profiles import CONFIG_DIR
from repro.report.figures.figure import Figure
from repro.runs.store import WEIGHTS_FILE, finished, read_record

PKD_CONFIG = CONFIG_DIR / 'methods' / 'pkd_head_gfl.py'  # its KD terms are the PKD of the figure
DEFAULT_LAYER = 3  # CrossKD's default layer (crosskd_gfl.py): preferred when a table has several
IMAGES = 3


class FeatureTap:
    """Forward hooks that record the student's layer-`layer` features during one forward, per key ('cls' and
    'reg' tower branches, or 'fpn' for layer 0) and per FPN level, and add `offsets[(key, level)]` to them (the
    finite-difference check perturbs F through this)."""

    def __init__(self, model, offsets: dict[tuple[str, int], Tensor] | None = None):
        layer = model.spec.layer
        if layer == 0:
            self.modules = {'fpn': [model.neck]}
        else:
            adapter = model.student_adapter
            if adapter.tower('cls') is adapter.tower('reg'):  # TOOD: one shared stack, its whole output the feature
                raise ReproError(f'gradient maps tap one layer of two towers; {type(adapter.head).__name__} has one '
                                 'shared stack whose whole output is the layer-1 feature: use a two-tower head')
            levels = range(len(model.bbox_head.prior_generator.strides))
            # one module for every level, or each level's own (RTMDet's SepBN head); each runs once per level,
            # in level order, so the features arrive in level order either way
            self.modules = {b: list({id(m): m for m in (adapter.tower(b, lv)[layer - 1] for lv in levels)}.values())
                            for b in ('cls', 'reg')}
        self.offsets = offsets or {}
        self.feats: dict[str, list[Tensor]] = {k: [] for k in self.modules}
        self._handles = []

    def _hook(self, key: str):
        def hook(module, args, kwargs, output):
            if key == 'fpn':  # a new node per level: the FPN's own extra levels (P6 from P5) are not the head's
                outs = [o + self.offsets[(key, i)] if (key, i) in self.offsets else o.view_as(o)
                        for i, o in enumerate(output)]
                self.feats[key].extend(outs)
                return tuple(outs)
            if kwargs.get('activate', True) is not False:  # not the adapter's pre-activation call
                return None
            level = len(self.feats[key])
            out = output + self.offsets[(key, level)] if (key, level) in self.offsets else output
            self.feats[key].append(out)
            return out
        return hook

    def __enter__(self):
        self._handles = [m.register_forward_hook(self._hook(k), with_kwargs=True)
                         for k, modules in self.modules.items() for m in modules]
        return self

    def __exit__(self, *exc):
        for handle in self._handles:
            handle.remove()


def kd_loss(model, inputs: Tensor, data_samples) -> Tensor:
    """The sum of the detector's KD terms (its `loss_kd_*` entries) on one batch."""
    losses = model.loss(inputs, data_samples)
    terms = [v for k, v in losses.items() if k.startswith('loss_kd_')]
    if not terms:
        raise ReproError('the distiller has no active KD term: nothing to take gradients of')
    return sum(v if torch.is_tensor(v) else sum(v) for v in terms)


def feature_gradients(model, inputs: Tensor, data_samples) -> tuple[Tensor, dict[str, list[Tensor]]]:
    """(L_KD, ∂L_KD/∂F): per key, per FPN level, a tensor shaped like the feature (N, C, H, W)."""
    levels = len(model.bbox_head.prior_generator.strides)
    with FeatureTap(model) as tap:
        loss = kd_loss(model, inputs, data_samples)
    keys = list(tap.feats)
    if any(len(tap.feats[k]) != levels for k in keys):
        raise ReproError(f'tapped {[len(tap.feats[k]) for k in keys]} features for {levels} FPN levels: the head '
                         'adapter no longer computes the layer features where repro.report.figures.gradmap expects them')
    flat = [f for k in keys for f in tap.feats[k]]
    grads = torch.autograd.grad(loss, flat, allow_unused=True)
    grads = [torch.zeros_like(f) if g is None else g for f, g in zip(flat, grads)]
    return loss.detach(), {k: grads[i * levels:(i + 1) * levels] for i, k in enumerate(keys)}


def magnitude(grads: dict[str, list[Tensor]], size: tuple[int, int]) -> np.ndarray:
    """|∂L/∂F| summed over channels, branches and levels (each level upsampled bilinearly to `size`): (H, W)."""
    total = torch.zeros(size)
    for maps in grads.values():
        for g in maps:
            m = g.detach().abs().sum(dim=1, keepdim=True)[:1].float()
            total += F.interpolate(m, size=size, mode='bilinear', align_corners=False)[0, 0]
    return total.numpy()


def inside_share(heat: np.ndarray, boxes: np.ndarray) -> float:
    """The share of a map's total inside the union of the boxes (x1, y1, x2, y2 pixels)."""
    mask = np.zeros(heat.shape, dtype=bool)
    for x1, y1, x2, y2 in boxes:
        mask[max(int(y1), 0):int(np.ceil(y2)), max(int(x1), 0):int(np.ceil(x2))] = True
    total = float(heat.sum())
    return float(heat[mask].sum()) / total if total > 0 else 0.0


# --- models, runs and images ------------------------------------------------------------------------------------
def build_model(model_cfg: dict, student_weights: str | Path | None = None):
    """A DistillDetector from its model config (the teacher checkpoint it names is loaded), with the student's
    weights from a run's weights.pth, in eval mode."""
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    import repro.distill  # noqa: F401  registers DistillDetector
    from repro.training.checkpoint import load_checkpoint_file
    register_all_modules()
    model = MODELS.build(copy.deepcopy(model_cfg))
    if student_weights is not None:
        state = load_checkpoint_file(student_weights).get('state_dict', {})
        own = {k: v for k, v in model.state_dict().items() if not k.startswith('kd_')}
        bad = sorted(k for k in own if k not in state or state[k].shape != own[k].shape)
        if bad:
            raise ReproError(f'{student_weights} does not fit the student of the gradient figure ({len(bad)} '
                             f'keys missing or of another shape, e.g. {bad[0]})')
        model.load_state_dict({k: state[k] for k in own}, strict=False)
    return model.eval()


def pkd_model_cfg(crosskd_cfg: dict) -> dict:
    """The CrossKD distiller's config with PKD's head-feature terms (pkd_head_gfl.py) at the same layer."""
    from repro.plan.compile import load_config
    cfg = copy.deepcopy(crosskd_cfg)
    cfg['distill'] = {**cfg['distill'], 'terms': load_config(PKD_CONFIG).distill.terms.to_dict()}
    return cfg


def crosskd_model_cfg(model_cfg: dict) -> dict:
    """The distiller's config with its CrossKD terms only: a run that adds other terms (CrossKD + PKD) must not
    put their gradients into the CrossKD panel."""
    cfg = copy.deepcopy(model_cfg)
    cfg['distill'] = {**cfg['distill'], 'terms': {k: t for k, t in cfg['distill']['terms'].items() if _cross(t)}}
    return cfg


def _cross(term: dict) -> bool:
    return term.get('source') == 'cross' and bool(term.get('weight', 1.0))


def _active_terms(run) -> list[dict]:
    model = run.compiled.cfg.model
    terms = (model.get('distill') or {}).get('terms') or {}
    return [t for t in terms.values() if t.get('weight', 1.0)] if model.get('type') == 'DistillDetector' else []


def is_crosskd(run) -> bool:
    """A distiller with an active CrossKD term."""
    return any(_cross(t) for t in _active_terms(run))


def _done(run) -> bool:
    """Finished, with weights of its own (not a row that evaluated zoo weights)."""
    return (run.work_dir / WEIGHTS_FILE).is_file() and finished(run.work_dir, read_record(run.work_dir))


def pick_runs(runs):
    """(the CrossKD run, the student weights' run) of a table, or None when it has no finished CrossKD run. The
    CrossKD run is the first finished one at the default layer, CrossKD alone before a combination, lowest seed;
    the student weights are the first finished plain student's that fit it, else the CrossKD run's own. ReproError
    when a run so picked is a kept record without weights: another run would draw another figure."""
    crosskd = [r for r in runs if r.role == 'distilled' and is_crosskd(r) and r.status() == 'done']
    if not crosskd:
        return None
    crosskd.sort(key=lambda r: (r.compiled.cfg.model.distill.get('layer', DEFAULT_LAYER) != DEFAULT_LAYER,
                                not all(_cross(t) for t in _active_terms(r)), r.seed))  # CrossKD alone first
    run = crosskd[0]
    parts = ('backbone', 'neck', 'bbox_head')
    student = {p: run.compiled.cfg.model.student.get(p) for p in parts}
    picked = next((other for other in runs if other.role == 'student' and other.status() == 'done'
                   and {p: other.compiled.cfg.model.get(p) for p in parts} == student), run)
    missing = list(dict.fromkeys(r.key for r in (run, picked) if not _done(r)))
    if missing:
        raise ReproError(f"run {', '.join(missing)}, picked for the gradient maps, is a kept record without weights")
    return run, picked


def val_items(cfg, count: int) -> list[dict]:
    """The first `count` val images that have a GT box, as the val pipeline gives them (inputs, data_samples)."""
    from mmdet.registry import DATASETS
    from mmdet.utils import register_all_modules
    register_all_modules()
    items = []
    try:
        dataset = DATASETS.build(copy.deepcopy(cfg.val_dataloader.dataset.to_dict()))
        for i in range(len(dataset)):
            item = dataset[i]
            if len(item['data_samples'].gt_instances):
                items.append(item)
            if len(items) == count:
                break
    except OSError as err:  # the val images are not on this machine (a coco report rendered elsewhere)
        raise ReproError(f'cannot read the val images for the gradient figure: {err}') from err
    if not items:
        raise ReproError('no val image with a GT box for the gradient figure')
    return items


def batch_of(model, item: dict) -> tuple[Tensor, list]:
    """One image through the model's data preprocessor, its GT boxes scaled to the resized image (the val
    pipeline loads them in the original image's pixels)."""
    batch = model.data_preprocessor({'inputs': [item['inputs']], 'data_samples': [copy.deepcopy(item['data_samples'])]},
                                    False)
    for sample in batch['data_samples']:
        sx, sy = sample.metainfo.get('scale_factor', (1.0, 1.0))
        if (sx, sy) != (1.0, 1.0):
            boxes = sample.gt_instances.bboxes
            if hasattr(boxes, 'rescale_'):
                boxes.rescale_((sx, sy))
            else:
                sample.gt_instances.bboxes = boxes * boxes.new_tensor([sx, sy, sx, sy])
    return batch['inputs'], batch['data_samples']


def _boxes(sample) -> np.ndarray:
    boxes = sample.gt_instances.bboxes
    return (boxes.tensor if hasattr(boxes, 'tensor') else boxes).detach().cpu().numpy().reshape(-1, 4)


# --- the figure -------------------------------------------------------------------------------------------------
TITLE = 'Gradient maps: PKD vs CrossKD'


def gradient_figure(spec, runs, profile: str, fig_dir: Path, images: int = IMAGES) -> Figure | None:
    """The figure for a table with a finished CrossKD run. Tables sharing the runs share the figure: it is named
    by the run keys and redrawn only when a checkpoint behind it is newer."""
    picked = pick_runs(runs)
    if picked is None:
        return None
    run, student = picked
    model_cfg = run.compiled.cfg.model.to_dict()
    from repro.training.weights import resolve
    teacher_ckpt = resolve(model_cfg.get('teacher_checkpoint') or '')  # a zoo URL: its cached download
    if not teacher_ckpt.is_file():
        raise ReproError(f'the teacher checkpoint {teacher_ckpt} of run {run.key} is missing')
    weights = student.work_dir / WEIGHTS_FILE
    path = fig_dir / f'gradient_maps-{run.key}-{student.key}.png'
    sidecar = path.with_suffix('.json')
    newest = max(p.stat().st_mtime for p in (teacher_ckpt, weights))
    if path.is_file() and sidecar.is_file() and path.stat().st_mtime >= newest:
        cached = json.loads(sidecar.read_text())
        return Figure('gradient_maps', TITLE, path, cached['caption'], cached['data'])
    methods = {'PKD': build_model(pkd_model_cfg(model_cfg), weights),
               'CrossKD': build_model(crosskd_model_cfg(model_cfg), weights)}
    panels = []
    for item in val_items(run.compiled.cfg, images):
        h, w = item['data_samples'].metainfo['img_shape']
        row = {'image': item['inputs'].permute(1, 2, 0).numpy()[:, :, ::-1], 'maps': {}}
        for name, model in methods.items():
            inputs, samples = batch_of(model, item)
            _, grads = feature_gradients(model, inputs, samples)
            row['maps'][name] = magnitude(grads, tuple(inputs.shape[-2:]))[:h, :w]
            row['boxes'] = _boxes(samples[0])
        panels.append(row)
    layer = run.compiled.cfg.model.distill.get('layer', DEFAULT_LAYER)
    teacher_run = run.compiled.teacher.run_key if run.compiled.teacher else None
    # named by its run key, or the checkpoint's file name: a caption is committed, the store's path is one machine's
    teacher = f'run {teacher_run} (teacher)' if teacher_run else teacher_ckpt.name
    share = {name: float(np.mean([inside_share(p['maps'][name], p['boxes']) for p in panels])) for name in methods}
    fig_dir.mkdir(parents=True, exist_ok=True)
    plot(panels, list(methods), path, f'|dL_KD/dF| at head layer {layer}')
    caption = (f'|∂L_KD/∂F| on the student\'s head features at layer {layer} (cls and reg towers, summed over '
               f'channels and FPN levels; each panel scaled to its own maximum) on {len(panels)} val images, GT '
               f'boxes in green. PKD: feature imitation of the teacher\'s layer-{layer} head features '
               f'({PKD_CONFIG.name}\'s terms); CrossKD: the student\'s layer-{layer} features through the teacher\'s '
               f'head ({run.config}, its CrossKD terms only). Teacher: {teacher}; student weights: run '
               f'{student.key} ({student.role}). '
               'Share of the gradient inside GT boxes: '
               + ', '.join(f'{k} {100 * v:.0f}%' for k, v in share.items()) + f' ({profile} profile).')
    data = {'layer': layer, 'crosskd_run': run.key, 'student_run': student.key, 'inside_share': share,
            'teacher_run': teacher_run}
    sidecar.write_text(json.dumps({'caption': caption, 'data': data}, indent=1))
    return Figure('gradient_maps', TITLE, path, caption, data)


def plot(panels: list[dict], methods: list[str], path: Path, title: str) -> None:
    """Rows of [image with GT boxes, one gradient map per method], written as a PNG (matplotlib's Agg canvas,
    without pyplot's global state)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle
    cols = 1 + len(methods)
    fig = MplFigure(figsize=(2.8 * cols, 2.8 * len(panels)), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), cols, squeeze=False)
    for r, panel in enumerate(panels):
        gray = panel['image'].mean(axis=2)
        for c in range(cols):
            ax = axes[r][c]
            if c == 0:
                ax.imshow(panel['image'])
                ax.set_title('image + GT' if r == 0 else '')
            else:
                heat = panel['maps'][methods[c - 1]]
                ax.imshow(gray, cmap='gray')
                ax.imshow(heat / heat.max() if heat.max() > 0 else heat, cmap='jet', alpha=0.55, vmin=0, vmax=1)
                ax.set_title(methods[c - 1] if r == 0 else '')
            for x1, y1, x2, y2 in panel['boxes']:
                ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor='lime', linewidth=1.2))
            ax.set_axis_off()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path)
