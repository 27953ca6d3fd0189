"""PGD's Fig. 2: the teacher's prediction-quality score (ξ = 0.8), maxed over FPN levels, on val images with their
GT boxes; one column per detector (FCOS, ATSS, GFL, AutoAssign, DDOD) whose teacher run finished.

The score is PGD's eq. 1 as the PGD distiller computes it for its masks (repro/distill/guides/
prediction_guided.py): q = 1[X in b] · p^(1-ξ) · IoU(b, b̂)^ξ with p the teacher's sigmoid score of the GT's
class and b̂ its decoded box (repro.distill.pgw.quality_scores, through the head adapter's decoding), maxed over a
location's predictions (anchors). The heatmap takes, at each pixel, the maximum over GTs and over FPN levels of the
nearest location's score.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from repro.errors import ReproError
from repro.report.figures.checkpoints import (FAMILIES, cached_figure, display_image, family, gt_boxes, load_detector,
                                      quiet, save_figure, state_of, weights_of)
from repro.report.figures.figure import Figure

XI = 0.8  # PGD Fig. 2 (following DDOD)
IMAGES = 3
TITLE = 'Prediction-quality heatmaps of the teachers'


@torch.no_grad()
def prediction_quality(adapter, cls_maps: list[Tensor], reg_maps: list[Tensor], boxes: Tensor, labels: Tensor,
                       xi: float = XI, image: int = 0) -> Tensor:
    """PGD eq. 1 for every (GT, prediction) pair of one image of a batch.

    Args:
        adapter: the head's adapter (repro.distill.adapters.adapter_for(head)).
        cls_maps: per level (N, A*C, H, W) class logits, as the head outputs them.
        reg_maps: per level (N, A*K, H, W) box regressions, as the head outputs them.
        boxes: (G, 4) GT boxes x1y1x2y2 in the network input's pixels; labels: (G,) their classes.
        image: which image of the batch.

    Returns:
        (G, L·A) quality in [0, 1], predictions in mmdet's order (levels, rows, columns, anchors innermost).
    """
    from repro.distill.guides.prediction_guided import centres_of
    from repro.distill.pgw import quality_scores
    head = adapter.head
    anchors = cls_maps[0].shape[1] // head.cls_out_channels
    reg_channels = reg_maps[0].shape[1] // anchors
    scores = adapter.flatten(cls_maps, head.cls_out_channels)[image].sigmoid()  # (L·A, C)
    reg = adapter.flatten(reg_maps, reg_channels)[image]                       # (L·A, K)
    priors = adapter.priors(reg_maps)                                           # (L·A, 4)
    centres = centres_of(priors, adapter)
    decoded = adapter.decode(reg, priors)
    return quality_scores(scores, decoded, centres, boxes.to(scores), labels, xi)


def location_quality(quality: Tensor, anchors: int) -> Tensor:
    """(G, L·A) -> (L,): a location's score, the max over its predictions (PGD's q̂) and over GTs (0 without GT)."""
    from repro.distill.pgw import max_over_predictions
    if quality.shape[0] == 0:  # an image without GT (max_over_predictions cannot reshape an empty tensor)
        return quality.new_zeros(quality.shape[1] // anchors)
    per_location = max_over_predictions(quality, anchors)
    return torch.cat([per_location.new_zeros(1, per_location.shape[1]), per_location]).amax(0)


def heatmap(values: Tensor, centres: Tensor, sizes: list[tuple[int, int]], shape: tuple[int, int]) -> np.ndarray:
    """(H, W) image of per-location values: each pixel takes, on every FPN level, the value of the location whose
    centre is nearest, and the maximum over levels.

    Args:
        values: (L,) one value per location, levels flattened (row-major within a level).
        centres: (L, 2) the locations' (x, y) centres in pixels.
        sizes: (h, w) of each level.
        shape: (H, W) of the image.
    """
    out = np.zeros(shape)
    ys, xs = np.arange(shape[0]) + 0.5, np.arange(shape[1]) + 0.5  # pixel centres
    start = 0
    for h, w in sizes:
        grid = values[start:start + h * w].reshape(h, w).cpu().numpy()
        cx = centres[start:start + w, 0].cpu().numpy()                    # the first row's x centres
        cy = centres[start:start + h * w:w, 1].cpu().numpy()              # the first column's y centres
        col = np.abs(xs[:, None] - cx[None]).argmin(1)
        row = np.abs(ys[:, None] - cy[None]).argmin(1)
        out = np.maximum(out, grid[row][:, col])
        start += h * w
    return out


@torch.no_grad()
def quality_heatmap(model, inputs: Tensor, sample, xi: float = XI) -> tuple[np.ndarray, Tensor]:
    """(heatmap over the image (H, W), the per-GT peak quality (G,)) of one preprocessed image."""
    from repro.distill.adapters import adapter_for
    from repro.distill.guides.prediction_guided import centres_of
    adapter = adapter_for(model.bbox_head)
    outs = model.bbox_head(model.extract_feat(inputs))
    cls_maps, reg_maps = outs[0], outs[1]
    gt = sample.gt_instances
    boxes = gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor') else gt.bboxes
    quality = prediction_quality(adapter, cls_maps, reg_maps, boxes, gt.labels, xi)
    anchors = cls_maps[0].shape[1] // adapter.head.cls_out_channels
    centres = centres_of(adapter.priors(reg_maps), adapter)[::anchors]
    sizes = [tuple(m.shape[-2:]) for m in cls_maps]
    h, w = sample.metainfo['img_shape']
    heat = heatmap(location_quality(quality, anchors), centres, sizes, tuple(inputs.shape[-2:]))[:h, :w]
    peaks = quality.amax(1) if quality.shape[1] else quality.new_zeros(quality.shape[0])
    return heat, peaks


# --- which teachers ----------------------------------------------------------------------------------------------
def pick_teachers(runs) -> tuple[dict[str, tuple[object, Path]], dict[str, str]] | None:
    """({family: (teacher run, weights)} of the finished teachers, {family: why it has no column}), or None when
    the table has no teacher run of the five detectors at all. The first finished teacher of a family is shown."""
    teachers = [r for r in runs if r.role == 'teacher' and family(r)]
    if not teachers:
        return None
    done, waiting = {}, {}
    for run in teachers:
        name = family(run)
        if name in done:
            continue
        weights = weights_of(run)
        if weights is not None:
            done[name] = (run, weights)
            waiting.pop(name, None)
        else:
            waiting.setdefault(name, f'teacher run {run.key} is {state_of(run)}')
    missing = {name: waiting.get(name, 'no teacher run in this table')
               for name in FAMILIES.values() if name not in done}
    return done, missing


def missing_note(missing: dict[str, str]) -> str:
    """'FCOS, ATSS: no teacher run in this table; DDOD: teacher run abc is pending' (families by reason)."""
    by_reason: dict[str, list[str]] = {}
    for name, why in missing.items():
        by_reason.setdefault(why, []).append(name)
    return '; '.join(f"{', '.join(names)}: {why}" for why, names in by_reason.items())


def teachers_figure(spec, runs, fig_dir: Path, name: str, title: str, purpose: str):
    """What the figures drawn from the five detectors' teachers share: (finished teachers, missing ones, the PNG
    path named by the teachers' run keys, the figure already drawn there or None); None when the table has no such
    teacher. No finished teacher at all is a ReproError saying what could not be done (`purpose`).

    Where some teachers have weights here and others were put back from kept records without them, the table's
    earlier render may show more teachers, from runs still finished under the same keys (repro.report.figures.
    kept_figure): that figure is kept, with nothing missing, rather than drawn again with fewer columns."""
    picked = pick_teachers(runs)
    if picked is None:
        return None
    done, missing = picked
    if not done:
        raise ReproError(f'no finished teacher run to {purpose} ({missing_note(missing)})')
    if missing:
        from repro.report.figures import fuller_kept_figure
        kept = fuller_kept_figure(spec, runs, fig_dir.parent, name, len(done))
        if kept is not None:
            return done, {}, kept.path, kept
    path = fig_dir / f"{name}-{'-'.join(run.key for run, _ in done.values())}.png"
    return done, missing, path, cached_figure(name, title, path, [w for _, w in done.values()])


def quality_figure(spec, runs, profile: str, fig_dir: Path, images: int = IMAGES) -> Figure | None:
    """The figure for a table with teacher runs of the five detectors; the missing ones are named in the caption.
    Tables sharing the teachers share the figure (named by their run keys)."""
    target = teachers_figure(spec, runs, fig_dir, 'quality_heatmaps', TITLE, 'draw quality heatmaps from')
    if target is None:
        return None
    done, missing, path, hit = target
    if hit is None:
        hit = draw(done, path, profile, images)
    if missing:  # the caption names what is missing now, not when the figure was drawn
        hit.caption += f' No column for {missing_note(missing)}.'
        hit.data = {**hit.data, 'missing': missing}
    return hit


def draw(done: dict, path: Path, profile: str, images: int) -> Figure:
    """Draw the heatmaps of `done` ({family: (run, weights)}) on the first val images with a GT box."""
    from repro.report.figures.gradmap import batch_of, val_items
    fig_dir = path.parent
    first = next(iter(done.values()))[0]
    with quiet():
        items = val_items(first.compiled.cfg, images)
    columns, peaks = {}, {}
    for name, (run, weights) in done.items():
        model = load_detector(run, weights)
        maps, found = [], []
        for item in items:
            inputs, samples = batch_of(model, item)
            heat, peak = quality_heatmap(model, inputs, samples[0])
            maps.append(heat)
            found.append(peak)
        columns[name] = maps
        peaks[name] = float(torch.cat(found).mean()) if found else 0.0
    panels = [{'image': display_image(item), 'boxes': _boxes(item)} for item in items]
    fig_dir.mkdir(parents=True, exist_ok=True)
    plot(panels, columns, path)
    caption = (f"PGD's prediction-quality score q = p^{1 - XI:.1f} · IoU^{XI} (ξ = {XI}) of each teacher's "
               f'predictions w.r.t. the GT box they lie in, maxed over anchors, GTs and FPN levels, on '
               f'{len(items)} val images (GT boxes in green; colour scale 0-1 shared by all panels). Mean peak '
               'quality per GT: ' + ', '.join(f'{k} {v:.2f}' for k, v in peaks.items()) + '. Teachers: '
               + ', '.join(f'{k} run {run.key} ({run.config})' for k, (run, _) in done.items())
               + f' ({profile} profile).')
    data = {'xi': XI, 'teachers': {k: run.key for k, (run, _) in done.items()}, 'mean_peak_quality': peaks}
    return save_figure('quality_heatmaps', TITLE, path, caption, data)


def _boxes(item: dict) -> np.ndarray:
    """A val item's GT boxes in its resized image's pixels (the val pipeline loads them in the original's)."""
    boxes = gt_boxes(item['data_samples'])
    sx, sy = item['data_samples'].metainfo.get('scale_factor', (1.0, 1.0))
    return boxes * np.array([sx, sy, sx, sy])


def plot(panels: list[dict], columns: dict[str, list[np.ndarray]], path: Path) -> None:
    """Rows of images: the image with its GT boxes, then one column per detector (its heatmap over the grey
    image, GT boxes on top), on one colour scale."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle
    cols = 1 + len(columns)
    fig = MplFigure(figsize=(2.6 * cols + 0.8, 2.6 * len(panels) + 0.4), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(panels), cols, squeeze=False)
    shown = None
    for r, panel in enumerate(panels):
        gray = panel['image'].mean(axis=2)
        for c, name in enumerate(['image + GT', *columns]):
            ax = axes[r][c]
            if c == 0:
                ax.imshow(panel['image'])
            else:
                ax.imshow(gray, cmap='gray')
                shown = ax.imshow(columns[name][r], cmap='jet', alpha=0.55, vmin=0, vmax=1)
            for x1, y1, x2, y2 in panel['boxes']:
                ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor='lime', linewidth=1.2))
            ax.set_title(name if r == 0 else '')
            ax.set_axis_off()
    fig.suptitle(f'Teacher prediction quality (xi = {XI}), max over FPN levels')
    width = fig.get_figwidth()
    fig.tight_layout(rect=(0, 0, 1 - 0.9 / width, 1))  # 0.9 inch on the right for the colour scale
    if shown is not None:
        fig.colorbar(shown, cax=fig.add_axes((1 - 0.75 / width, 0.2, 0.12 / width, 0.6)))
    fig.savefig(path)
