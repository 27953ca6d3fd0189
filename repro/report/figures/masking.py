"""PGD's Fig. 3: each teacher's COCO mAP after ignoring its top-X% quality predictions inside GT boxes before NMS,
for X in {0, 0.5, 1, 2, 5, 10, 20}, on the run's own val split and evaluator (pycocotools through mmdet's
CocoMetric), from the run's own weights.

Masking, per val image and GT box b: the candidates are the predictions (one per anchor) whose location lies
inside b, n_b of them; the ceil(X/100 · n_b) with the highest quality w.r.t. b (PGD eq. 1, ξ = 0.8,
repro.report.figures.quality.prediction_quality) are ignored, so any X > 0 takes at least each object's best prediction.
An ignored prediction gets a class logit of -inf on every class (score 0, which no score_thr >= 0 keeps); then the
head's own post-processing (score threshold, top-k, NMS) runs as in the run's evaluation. X = 0 reproduces the
run's recorded metrics. The curve of a run is cached beside the figure (masking-<run key>.json).
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from torch import Tensor

from repro.report.figures.checkpoints import load_detector, quiet, save_figure, val_evaluator, val_loader
from repro.report.figures.figure import Figure
from repro.report.figures.quality import XI, missing_note, prediction_quality, teachers_figure

PERCENTS = (0.0, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0)  # X of PGD Fig. 3
TITLE = 'Teacher mAP after masking its top-X% quality predictions'


def masked_predictions(quality: Tensor, inside: Tensor, percent: float) -> Tensor:
    """(P,) bool: the predictions to ignore in one image.

    Args:
        quality: (G, P) quality of every prediction w.r.t. every GT (0 outside the GT's box).
        inside: (G, P) bool, the prediction's location lies inside the GT's box.
        percent: X; per GT, the ceil(X/100 · n) best of its n inside predictions are ignored.
    """
    masked = torch.zeros(quality.shape[1], dtype=torch.bool, device=quality.device)
    if percent <= 0:
        return masked
    for g in range(quality.shape[0]):
        candidates = inside[g].nonzero().flatten()
        take = math.ceil(round(percent * len(candidates) / 100, 9))  # 0.1 · 10 is 1, not 1 + 2^-52
        if take:
            best = quality[g, candidates].topk(take).indices
            masked[candidates[best]] = True
    return masked


def mask_logits(cls_maps: list[Tensor], masked: list[Tensor], classes: int) -> list[Tensor]:
    """Copies of the per-level class logits (N, A*C, H, W) with every class of the masked predictions at -inf.

    Args:
        masked: per image (L·A,) bool in mmdet's order (levels, rows, columns, anchors innermost).
    """
    out, start = [], 0
    for level in cls_maps:
        n, channels, h, w = level.shape
        anchors = channels // classes
        size = h * w * anchors
        keep = level.clone()
        for i, flags in enumerate(masked):
            flat = flags[start:start + size].reshape(h, w, anchors).permute(2, 0, 1)  # (A, H, W)
            full = flat[:, None].expand(anchors, classes, h, w).reshape(channels, h, w)  # channel a*C + c
            keep[i][full] = float('-inf')
        out.append(keep)
        start += size
    return out


def _scaled_gt(sample) -> tuple[Tensor, Tensor]:
    """GT boxes in the network input's pixels (the val pipeline loads them in the original image's) and labels."""
    gt = sample.gt_instances
    boxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
    sx, sy = sample.metainfo.get('scale_factor', (1.0, 1.0))
    return boxes * boxes.new_tensor([sx, sy, sx, sy]), gt.labels


@torch.no_grad()
def masking_curve(run, weights: Path, percents=PERCENTS, xi: float = XI) -> dict[str, dict[str, float]]:
    """{str(X): the run's metrics (AP, AP50, ... in percent, as its record has them)} with its top-X% masked."""
    from repro.distill.adapters import adapter_for
    from repro.distill.guides.prediction_guided import centres_of
    from repro.distill.pgw import inside_boxes
    from repro.training.metrics import run_metrics
    cfg = run.compiled.cfg
    model = load_detector(run, weights)
    head = model.bbox_head
    adapter = adapter_for(head)
    loader = val_loader(cfg)
    evaluators = {x: val_evaluator(cfg, loader.dataset.metainfo) for x in percents}
    for data in loader:
        batch = model.data_preprocessor(data, False)
        samples = batch['data_samples']
        outs = head(model.extract_feat(batch['inputs']))
        centres = centres_of(adapter.priors(outs[1]), adapter)
        per_image = []
        for i, sample in enumerate(samples):
            boxes, labels = _scaled_gt(sample)
            quality = prediction_quality(adapter, outs[0], outs[1], boxes, labels, xi, image=i)
            per_image.append((quality, inside_boxes(centres, boxes.to(centres))))
        for x in percents:
            masked = [masked_predictions(q, inside, x) for q, inside in per_image]
            cls_maps = mask_logits(outs[0], masked, head.cls_out_channels) if x > 0 else outs[0]
            results = head.predict_by_feat(cls_maps, *outs[1:], batch_img_metas=[s.metainfo for s in samples],
                                           rescale=True)
            evaluators[x].process(data_samples=model.add_pred_to_datasample(samples, results), data_batch=data)
    curve = {}
    for x, evaluator in evaluators.items():
        with quiet():  # pycocotools prints its summary, CocoMetric logs it
            curve[str(x)] = run_metrics(evaluator.evaluate(len(loader.dataset)))
    return curve


def cached_curve(run, weights: Path, cache_dir: Path, percents=PERCENTS) -> dict[str, dict[str, float]]:
    """masking_curve, read from cache_dir/masking-<run key>.json when that is newer than the weights and has the
    same X values; computed and written there otherwise."""
    path = cache_dir / f'masking-{run.key}.json'
    wanted = [str(x) for x in percents]
    if path.is_file() and path.stat().st_mtime >= weights.stat().st_mtime:
        try:
            cached = json.loads(path.read_text())
            if cached.get('run_key') == run.key and cached.get('xi') == XI and list(cached['curve']) == wanted:
                return cached['curve']
        except (OSError, json.JSONDecodeError, KeyError, TypeError):
            pass
    curve = masking_curve(run, weights, percents)
    cache_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'run_key': run.key, 'xi': XI, 'weights': str(weights), 'curve': curve}, indent=1))
    return curve


def masking_figure(spec, runs, profile: str, fig_dir: Path) -> Figure | None:
    """The figure for a table with teacher runs of the five detectors (see repro.report.figures.quality.teachers_figure)."""
    from repro.runs.store import read_record
    target = teachers_figure(spec, runs, fig_dir, 'masking_curve', TITLE, 'mask the predictions of')
    if target is None:
        return None
    done, missing, path, figure = target
    if figure is None:
        curves = {name: cached_curve(run, weights, fig_dir) for name, (run, weights) in done.items()}
        recorded = {name: (read_record(run.work_dir) or {}).get('metrics', {}).get('AP')
                    for name, (run, _) in done.items()}
        plot(curves, path)
        ap = {name: [curve[str(x)].get('AP', 0.0) for x in PERCENTS] for name, curve in curves.items()}
        caption = (f'COCO mAP of each teacher on the val split after ignoring, per GT box, its top-X% predictions '
                   f'inside the box by quality (ξ = {XI}; ceil(X% of the in-box predictions), so X > 0 removes '
                   'at least each object\'s best) before NMS; right: relative to X = 0. '
                   + '; '.join(f'{name} (run {run.key}): AP {" → ".join(f"{v:.1f}" for v in ap[name])} for X = '
                               f'{", ".join(f"{x:g}" for x in PERCENTS)} (recorded AP {recorded[name]})'
                               for name, (run, _) in done.items()) + f' ({profile} profile).')
        data = {'percents': list(PERCENTS), 'xi': XI, 'ap': ap, 'recorded_ap': recorded,
                'teachers': {k: run.key for k, (run, _) in done.items()}}
        figure = save_figure('masking_curve', TITLE, path, caption, data)
    if missing:
        figure.caption += f' No curve for {missing_note(missing)}.'
        figure.data = {**figure.data, 'missing': missing}
    return figure


def plot(curves: dict[str, dict[str, dict[str, float]]], path: Path) -> None:
    """Left: AP against X (evenly spaced ticks, as PGD prints them); right: AP relative to X = 0."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    fig = MplFigure(figsize=(9, 3.6), dpi=80)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2)
    ticks = list(range(len(PERCENTS)))
    for name, curve in curves.items():
        ap = [curve[str(x)].get('AP', 0.0) for x in PERCENTS]
        left.plot(ticks, ap, marker='o', label=name)
        base = ap[0]
        right.plot(ticks, [100 * v / base if base else 0.0 for v in ap], marker='o', label=name)
    for ax, label in ((left, 'mAP'), (right, 'mAP relative to X = 0 (%)')):
        ax.set_xticks(ticks, [f'{x:g}' for x in PERCENTS])
        ax.set_xlabel('top-X% quality predictions masked')
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    right.set_ylim(bottom=0)
    fig.suptitle('Teacher mAP after masking its top-X% predictions inside GT boxes')
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
