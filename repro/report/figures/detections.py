"""Detections (PGD Fig. 5, CrossKD's visualisation): the teacher, the plain student and the distilled student on
the same val images, each from its own run's weights, GT boxes beside their boxes.

A table gets the figure when it has a student row and a distilled row. Per teacher, the shown distilled run is a
finished run of the paper's own method (config named `<paper>_...`, else any), the one with the highest recorded
AP; its teacher is the run it was distilled from, and its plain student a finished student row with the same
backbone, neck and head. Boxes are the detector's own post-processed predictions (its test_cfg, NMS included)
with a score of at least SCORE_THR.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from repro.errors import ReproError
from repro.report.figures.checkpoints import (cached_figure, display_image, gt_boxes, load_detector, plain_model_cfg,
                                      quiet, save_figure, state_of, weights_of)
from repro.report.figures.figure import Figure
from repro.runs.store import read_record

SCORE_THR = 0.3
IMAGES = 3
TITLE = 'Detections: teacher, student and distilled student'
PARTS = ('backbone', 'neck', 'bbox_head')
COLOURS = {'gt': 'deepskyblue', 'teacher': 'lime', 'student': 'red', 'distilled': 'orange'}  # PGD Fig. 5's


def _parts(model_cfg: dict) -> dict:
    return {p: model_cfg.get(p) for p in PARTS}


def _ap(run) -> float:
    return float(((read_record(run.work_dir) or {}).get('metrics') or {}).get('AP') or 0.0)


def pick_triples(spec, runs) -> list[tuple] | None:
    """[(teacher, student, distilled) runs, one per teacher], or None when the table has no student or no
    distilled row. Each teacher's trio: the paper's own method where it ran, a student and distilled run of one seed
    where both have weights, the lowest such seed, then the best AP among that seed's rows. ReproError, naming what is missing, when it has both but no triple is finished."""
    students = [r for r in runs if r.role == 'student']
    distilled = [r for r in runs if r.role == 'distilled']
    if not students or not distilled:
        return None
    by_key = {r.key: r for r in runs}
    candidates, waiting = {}, []
    for run in distilled:
        teacher = by_key.get(run.needs) if run.needs else _zoo_teacher(run, runs)
        parts = _parts(plain_model_cfg(run))
        fits = [s for s in students if _parts(plain_model_cfg(s)) == parts]
        # a student with weights first (kept records have none), then the distilled run's own seed
        student = min(fits, key=lambda s: (weights_of(s) is None, s.seed != run.seed), default=None)
        trio = {'teacher': teacher, 'student': student, 'distilled': run}
        unfinished = [f'{role} {r.key} is {state_of(r)}' if r else f'no {role} run fits'
                      for role, r in trio.items() if r is None or weights_of(r) is None]
        if unfinished:
            waiting.append(f"{run.rows[0].rpartition('/')[2] if run.rows else run.key}: {', '.join(unfinished)}")
            continue
        own = Path(run.config).stem.startswith(f'{spec.paper}_')
        # the paper's own method first; then a student of the distilled run's seed, and the lowest such seed (not
        # the best of a row's seeds); among rows of that seed, the best AP
        rank = (own, student.seed == run.seed, -run.seed, _ap(run))
        candidates.setdefault(teacher.key, []).append((rank, (teacher, student, run)))
    if not candidates:
        raise ReproError('no teacher, student and distilled student all finished (' + '; '.join(waiting[:3])
                         + (f'; {len(waiting) - 3} more' if len(waiting) > 3 else '') + ')')
    return [max(found, key=lambda c: c[0])[1] for found in candidates.values()]


def _zoo_teacher(run, runs):
    """The teacher-role run whose detector is the distiller's teacher (a coco teacher row of zoo weights)."""
    teacher = run.compiled.cfg.model.get('teacher')
    if teacher is None:
        return None
    want = _parts(teacher.to_dict() if hasattr(teacher, 'to_dict') else teacher)
    return next((r for r in runs if r.role == 'teacher' and _parts(plain_model_cfg(r)) == want), None)


@torch.no_grad()
def detect(model, inputs, samples, score_thr: float = SCORE_THR) -> tuple[np.ndarray, np.ndarray]:
    """(boxes (M, 4) x1y1x2y2 in the network input's pixels, scores (M,)) of one image, score >= score_thr."""
    pred = model.predict(inputs, samples, rescale=False)[0].pred_instances
    keep = pred.scores >= score_thr
    return pred.bboxes[keep].cpu().numpy().reshape(-1, 4), pred.scores[keep].cpu().numpy()


def match(boxes: np.ndarray, gts: np.ndarray, iou: float = 0.5) -> tuple[int, int]:
    """(GTs found, false positives): greedy one-to-one matching at IoU >= iou, boxes in descending score order."""
    from mmdet.structures.bbox import bbox_overlaps
    if not len(boxes) or not len(gts):
        return 0, len(boxes)
    overlaps = bbox_overlaps(torch.as_tensor(boxes), torch.as_tensor(gts)).numpy()
    free = np.ones(len(gts), dtype=bool)
    found = 0
    for row in overlaps:
        cand = np.where(free & (row >= iou))[0]
        if len(cand):
            free[cand[row[cand].argmax()]] = False
            found += 1
    return found, len(boxes) - found


def detections_figure(spec, runs, profile: str, fig_dir: Path, images: int = IMAGES) -> Figure | None:
    """The figure for a table with a finished teacher, student and distilled student (see pick_triples)."""
    triples = pick_triples(spec, runs)
    if triples is None:
        return None
    keys = '-'.join(r.key for trio in triples for r in trio)
    # the table's stem too: its labels name the table's rows, and a run may be a row of several tables
    path = fig_dir / f'detections-{spec.path.stem}-{keys}.png'
    hit = cached_figure('detections', TITLE, path, [weights_of(r) for trio in triples for r in trio])
    if hit is None:  # the earlier render's, where it shows more runs than those with weights here
        from repro.report.figures import fuller_kept_figure
        hit = fuller_kept_figure(spec, runs, fig_dir.parent, 'detections', len({r.key for t in triples for r in t}))
    return hit or draw(triples, labels(spec, triples), path, profile, images)


def draw(triples: list[tuple], row_labels: list[str], path: Path, profile: str, images: int) -> Figure:
    """Rows of val images per triple, columns teacher | student | distilled; captions count hits and misses."""
    from repro.report.figures.gradmap import batch_of, val_items
    rows, totals, names = [], {}, []
    for (teacher, student, distilled), label in zip(triples, row_labels):
        with quiet():
            items = val_items(teacher.compiled.cfg, images)
        models = {'teacher': teacher, 'student': student, 'distilled': distilled}
        names.append(f'{label}: teacher {teacher.key}, student {student.key}, distilled {distilled.key}')
        panels = [{'image': display_image(item), 'gt': None, 'boxes': {}, 'label': label} for item in items]
        for role, run in models.items():
            model = load_detector(run)
            tally = totals.setdefault(label, {}).setdefault(role, [0, 0, 0])  # found, GTs, false positives
            for panel, item in zip(panels, items):
                inputs, samples = batch_of(model, item)
                boxes, _ = detect(model, inputs, samples)
                panel['gt'] = gt_boxes(samples[0])
                panel['boxes'][role] = boxes
                found, false = match(boxes, panel['gt'])
                tally[0] += found
                tally[1] += len(panel['gt'])
                tally[2] += false
        rows += panels
    path.parent.mkdir(parents=True, exist_ok=True)
    plot(rows, path)
    summary = '; '.join(f'{label}: ' + ', '.join(f'{role} finds {f}/{n} GTs with {fp} false positives'
                                                 for role, (f, n, fp) in by_role.items())
                        for label, by_role in totals.items())
    caption = (f'Boxes with score >= {SCORE_THR} after each model\'s own NMS on {images} val images: GT in blue, '
               'teacher in green, plain student in red, distilled student in orange. At IoU >= 0.5 on these '
               f'images: {summary}. Runs: ' + '; '.join(names) + f' ({profile} profile).')
    data = {'score_thr': SCORE_THR, 'counts': totals,
            'runs': [{'teacher': t.key, 'student': s.key, 'distilled': d.key} for t, s, d in triples]}
    return save_figure('detections', TITLE, path, caption, data)


def labels(spec, triples: list[tuple]) -> list[str]:
    """Each triple's name in the figure: its distilled run's config and its rows in this table (a run shared by
    several tables is a row of each, under another name)."""
    def rows(run) -> str:
        return ', '.join(r.rpartition('/')[2] for r in run.rows if r.rpartition('/')[0] == spec.id)
    return [f'{Path(distilled.config).stem} ({rows(distilled)})' for _, _, distilled in triples]


def plot(rows: list[dict], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.patches import Rectangle
    roles = ('teacher', 'student', 'distilled')
    fig = MplFigure(figsize=(2.8 * len(roles), 2.8 * len(rows) + 0.3), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(len(rows), len(roles), squeeze=False)
    for r, panel in enumerate(rows):
        for c, role in enumerate(roles):
            ax = axes[r][c]
            ax.imshow(panel['image'])
            for boxes, colour, width in ((panel['gt'], COLOURS['gt'], 1.0), (panel['boxes'][role], COLOURS[role], 1.4)):
                for x1, y1, x2, y2 in boxes:
                    ax.add_patch(Rectangle((x1, y1), x2 - x1, y2 - y1, fill=False, edgecolor=colour, linewidth=width))
            first = r == 0 or rows[r - 1]['label'] != panel['label']
            named = first and role == 'distilled'  # the label names the distilled run, so it heads that column
            ax.set_title(f"{role}\n{panel['label']}" if named else role if first else '', fontsize=9)
            ax.set_axis_off()
    fig.suptitle(f'Detections (score >= {SCORE_THR}); GT in blue')
    fig.tight_layout()
    fig.savefig(path)
