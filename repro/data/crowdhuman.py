"""CrowdHuman support: `.odgt` to COCO conversion (full-body boxes) and the crowd metrics AP, MR⁻² and JI.

CrowdHuman: Shao et al., "CrowdHuman: A Benchmark for Detecting Human in a Crowd", arXiv:1805.00123 (2018).
The metrics follow the CrowdDet evaluation (Chu et al., CVPR 2020) that PGD's Table 3 reports:

* MR⁻² (`log_average_miss_rate`): per image, detections in descending score order are matched greedily to the
  unmatched non-ignored GT of highest IoU, if that IoU ≥ `iou_thr`; an unmatched detection whose IoA (the
  fraction of the detection's own area inside the region) with some ignore region is ≥ `iou_thr` is discarded,
  any other is a false positive. Ignore regions absorb any number of detections. All kept detections are then
  sorted by score over the whole set; after each one, miss rate = 1 − TP / #non-ignored GTs and
  FPPI = FP / #images. At each of the 9 references `np.logspace(-2, 0, 9)` the miss rate is read at the first
  curve point whose FPPI ≥ reference (the last point if none reaches it; 1.0 if there are no detections), and
  MR⁻² = 100 · exp(mean(log(max(mr, 1e-10)))). A perfect detector therefore scores 1e-8 (%), not exactly 0.
* JI (`jaccard_index`): for each score threshold t in {0.0, 0.1, …, 0.9}, keep detections with score > t;
  per image take a maximum-cardinality bipartite matching between detections and non-ignored GTs, an edge
  being IoU ≥ `iou_thr` (scipy's Hopcroft-Karp with detections in the given order, as MMDetection 3.3's
  CrowdHumanMetric; CrowdDet's own code used a maximum-weight matching on IoU); k = #matched pairs,
  n = #kept detections minus the unmatched ones with IoA ≥ `iou_thr` with an ignore region, m = #non-ignored
  GTs minus the unmatched ones with IoA ≥ `iou_thr` with an ignore region; the image scores k / (m + n − k).
  JI(t) is the mean over the images with m + n > 0 (an image with nothing left to count is skipped, not
  scored 0; JI(t) = 0 if no image counts), and JI = max over t (a fraction; Table 3 prints 100 · JI).
* AP (`crowddet_ap`, Table 3's AP): the same matching as MR⁻²; precision and recall after each kept detection,
  AP = trapezoidal area under that raw curve. `crowdhuman_ap` instead runs pycocotools' COCOeval on the
  converted dict (ignore regions being `iscrowd=1`).

Boxes are (x1, y1, x2, y2) with areas (x2 − x1)·(y2 − y1). Comparisons are ≥ `iou_thr` throughout, where
MMDetection's code uses strict > except for JI's matching edges; only exact ties differ. On random scenes
without such ties, MR⁻², AP and JI equal MMDetection 3.3's CrowdHumanMetric to its 4 printed decimals.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from repro.errors import ReproError

TAGS = ('person', 'mask')  # CrowdHuman's box tags; 'mask' marks crowds, reflections, posters: ignore regions
MR_FLOOR = 1e-10


def _read_lines(source) -> list[str]:
    if isinstance(source, (str, Path)) and '\n' not in str(source) and not str(source).lstrip().startswith('{'):
        path = Path(source)
        if not path.is_file():
            raise ReproError(f'CrowdHuman annotation file not found: {path}')
        return path.read_text(encoding='utf-8').splitlines()
    if isinstance(source, str):
        return source.splitlines()
    return list(source)


def _image_size(rec: dict, image_sizes, image_dir, where: str) -> tuple[int, int]:
    iid = rec['ID']
    if image_sizes is not None and iid in image_sizes:
        h, w = image_sizes[iid]
        return int(h), int(w)
    if 'height' in rec and 'width' in rec:
        return int(rec['height']), int(rec['width'])
    if image_dir is not None:
        path = Path(image_dir) / f'{iid}.jpg'
        if not path.is_file():
            raise ReproError(f'{where}: image {path} not found; pass image_sizes instead')
        from PIL import Image  # reads only the header
        with Image.open(path) as im:
            w, h = im.size
        return h, w
    raise ReproError(f'{where}: no image size for ID {iid!r}; pass image_sizes={{ID: (h, w)}} or image_dir')


def odgt_to_coco(odgt_lines_or_path, image_sizes: Mapping | None = None, image_dir=None,
                 clip: bool = True) -> dict:
    """Convert CrowdHuman `.odgt` annotations to a COCO-format dict of full-body (`fbox`) boxes.

    Args:
        odgt_lines_or_path: a path to an `.odgt` file, its text, or an iterable of its lines (one JSON
            record per line: {"ID", "gtboxes": [{"tag", "fbox": [x, y, w, h], "extra": {"ignore"}, ...}]}).
            Blank lines are skipped.
        image_sizes: optional {ID: (height, width)}. Otherwise a record's own "height"/"width", otherwise the
            header of `image_dir/ID.jpg`.
        image_dir: optional folder of the CrowdHuman images, used only for sizes.
        clip: clip boxes to the image (CrowdHuman full bodies often extend past it; the CrowdDet evaluation
            clips too). Boxes left with no width or height are dropped.

    Returns:
        COCO dict with 'images' (ids 1.., file_name 'ID.jpg', height, width, crowdhuman_id), 'annotations'
        (ids 1.., category 1, bbox [x, y, w, h], area w·h, iscrowd 1 for tag 'mask' or extra.ignore=1,
        0 otherwise) and 'categories' [{'id': 1, 'name': 'person'}].

    Raises:
        ReproError: naming the 1-based line number and the problem, for a malformed line.
    """
    images, annotations, seen = [], [], {}
    for lineno, line in enumerate(_read_lines(odgt_lines_or_path), start=1):
        if isinstance(line, bytes):
            line = line.decode('utf-8')
        if not line.strip():
            continue
        where = f'odgt line {lineno}'
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise ReproError(f'{where}: not valid JSON ({e.msg} at column {e.colno})') from None
        if not isinstance(rec, dict) or not isinstance(rec.get('ID'), str):
            raise ReproError(f'{where}: expected a JSON object with a string "ID"')
        if rec['ID'] in seen:
            raise ReproError(f'{where}: ID {rec["ID"]!r} repeats line {seen[rec["ID"]]}')
        seen[rec['ID']] = lineno
        boxes = rec.get('gtboxes')
        if not isinstance(boxes, list):
            raise ReproError(f'{where}: "gtboxes" must be a list')
        h, w = _image_size(rec, image_sizes, image_dir, where)
        image_id = len(images) + 1
        images.append({'id': image_id, 'file_name': f'{rec["ID"]}.jpg', 'height': h, 'width': w,
                       'crowdhuman_id': rec['ID']})
        for k, box in enumerate(boxes):
            fbox = box.get('fbox') if isinstance(box, dict) else None
            if (not isinstance(fbox, list) or len(fbox) != 4
                    or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in fbox)):
                raise ReproError(f'{where}: gtboxes[{k}] needs "fbox": [x, y, w, h] of 4 numbers')
            tag = box.get('tag')
            if tag not in TAGS:
                raise ReproError(f'{where}: gtboxes[{k}] has tag {tag!r}; expected one of {TAGS}')
            extra = box.get('extra') or {}
            ignore = tag == 'mask' or (isinstance(extra, dict) and bool(extra.get('ignore', 0)))
            x1, y1, x2, y2 = fbox[0], fbox[1], fbox[0] + fbox[2], fbox[1] + fbox[3]
            if clip:
                x1, x2 = min(max(x1, 0), w), min(max(x2, 0), w)
                y1, y2 = min(max(y1, 0), h), min(max(y2, 0), h)
            bw, bh = x2 - x1, y2 - y1
            if bw <= 0 or bh <= 0:
                continue
            annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'category_id': 1,
                                'bbox': [float(x1), float(y1), float(bw), float(bh)],
                                'area': float(bw * bh), 'iscrowd': int(ignore)})
    return {'images': images, 'annotations': annotations, 'categories': [{'id': 1, 'name': 'person'}]}


def coco_to_gts(coco: dict) -> dict:
    """Per-image GT arrays from a COCO dict: {image_id: ((G, 4) x1y1x2y2 boxes, (G,) bool ignore)}."""
    gts = {img['id']: ([], []) for img in coco['images']}
    for a in coco['annotations']:
        x, y, w, h = a['bbox']
        gts[a['image_id']][0].append([x, y, x + w, y + h])
        gts[a['image_id']][1].append(bool(a.get('iscrowd', 0)))
    return {i: (np.asarray(b, np.float64).reshape(-1, 4), np.asarray(f, bool)) for i, (b, f) in gts.items()}


def results_to_dets(results: Iterable[dict]) -> dict:
    """Per-image detection arrays from COCO results ({image_id, bbox [x, y, w, h], score}): {image_id: (M, 5)}."""
    dets: dict = {}
    for r in results:
        x, y, w, h = r['bbox']
        dets.setdefault(r['image_id'], []).append([x, y, x + w, y + h, r['score']])
    return {i: np.asarray(d, np.float64).reshape(-1, 5) for i, d in dets.items()}


def _overlap(a: np.ndarray, b: np.ndarray, mode: str) -> np.ndarray:
    """(A, B) IoU, or IoA = intersection / area of each box of `a` ('ioa'), via mmdet's numpy bbox_overlaps."""
    from mmdet.evaluation.functional import bbox_overlaps
    return bbox_overlaps(a, b, mode='iof' if mode == 'ioa' else 'iou')


def _prepare(dets: Mapping, gts: Mapping) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per image of `gts` (in its order): (M, 5) detections as given, (G, 4) GTs, (Gi, 4) ignore regions."""
    unknown = [i for i in dets if i not in gts]
    if unknown:
        raise ReproError(f'detections for image id {unknown[0]!r}, which has no ground-truth entry')
    out = []
    for image_id, gt in gts.items():
        boxes, ignore = gt if isinstance(gt, tuple) else (gt, None)
        boxes = np.asarray(boxes, np.float64).reshape(-1, 4)
        ignore = np.zeros(len(boxes), bool) if ignore is None else np.asarray(ignore, bool).reshape(-1)
        if len(ignore) != len(boxes):
            raise ReproError(f'image {image_id!r}: {len(boxes)} GT boxes but {len(ignore)} ignore flags')
        d = np.asarray(dets.get(image_id, np.zeros((0, 5))), np.float64)
        if d.size and (d.ndim != 2 or d.shape[1] != 5):
            raise ReproError(f'image {image_id!r}: detections must be (M, 5) x1,y1,x2,y2,score, got {d.shape}')
        out.append((d.reshape(-1, 5), boxes[~ignore], boxes[ignore]))
    return out


def _caltech_match(images: list, iou_thr: float) -> tuple[np.ndarray, int]:
    """Greedy per-image matching; returns (K,) TP flags of the kept detections by descending score, and #GTs."""
    num_gt = sum(len(g) for _, g, _ in images)
    if num_gt == 0:
        raise ReproError('MR⁻² and AP are undefined without any non-ignored ground-truth box')
    scores, is_tp = [], []
    for d, g, ign in images:
        d = d[np.argsort(-d[:, 4], kind='stable')]
        iou, ioa = _overlap(d[:, :4], g, 'iou'), _overlap(d[:, :4], ign, 'ioa')
        taken = np.zeros(len(g), bool)
        for i in range(len(d)):
            cand = np.where(taken, -1.0, iou[i])  # IoU with the still-unmatched GTs
            j = int(np.argmax(cand)) if len(g) else -1
            if j >= 0 and cand[j] >= iou_thr:
                taken[j] = True
                hit = True
            elif len(ign) and ioa[i].max() >= iou_thr:
                continue  # inside an ignore region: neither TP nor FP
            else:
                hit = False
            scores.append(d[i, 4])
            is_tp.append(hit)
    return np.asarray(is_tp, bool)[np.argsort(-np.asarray(scores), kind='stable')], num_gt


def log_average_miss_rate(dets: Mapping, gts: Mapping, iou_thr: float = 0.5,
                          fppi_range: tuple[float, float] = (1e-2, 1.0), num_points: int = 9) -> float:
    """Log-average miss rate MR⁻² in percent (lower is better); the rule is in the module docstring.

    Args:
        dets: {image_id: (M, 5) array x1, y1, x2, y2, score}; images without an entry have no detections.
        gts: {image_id: ((G, 4) x1y1x2y2 boxes, (G,) bool ignore flags)} or {image_id: (G, 4) boxes}. Every
            evaluated image must be a key (it counts towards FPPI).
        iou_thr: IoU for a match and IoA for an ignore-region hit.
        fppi_range, num_points: the FPPI references, log-spaced.

    Returns:
        100 · exp(mean(log(max(mr_i, 1e-10)))) over the references.
    """
    images = _prepare(dets, gts)
    tp, num_gt = _caltech_match(images, iou_thr)
    refs = np.logspace(np.log10(fppi_range[0]), np.log10(fppi_range[1]), num_points)
    if not len(tp):
        mrs = np.ones(num_points)
    else:
        mr = 1.0 - np.cumsum(tp) / num_gt
        fppi = np.cumsum(~tp) / len(images)
        first = np.searchsorted(fppi, refs, side='left')  # fppi is non-decreasing: first index with fppi ≥ ref
        mrs = mr[np.minimum(first, len(mr) - 1)]
    return float(100.0 * np.exp(np.mean(np.log(np.maximum(mrs, MR_FLOOR)))))


def crowddet_ap(dets: Mapping, gts: Mapping, iou_thr: float = 0.5) -> float:
    """CrowdDet's AP in percent: the trapezoidal area under the raw precision-recall curve of the MR⁻² matching.

    The curve has one point per kept detection (by descending score), with no interpolation and no (0, 1)
    starting point. Arguments as for `log_average_miss_rate`.
    """
    tp, num_gt = _caltech_match(_prepare(dets, gts), iou_thr)
    if not len(tp):
        return 0.0
    recall = np.cumsum(tp) / num_gt
    precision = np.cumsum(tp) / np.arange(1, len(tp) + 1)
    return float(100.0 * np.sum(np.diff(recall) * (precision[1:] + precision[:-1]) / 2))


def _image_ji(d: np.ndarray, g: np.ndarray, ign: np.ndarray, iou_thr: float) -> float | None:
    """One image's k / (m + n − k) for (M, 5) kept detections, (G, 4) GTs and (Gi, 4) ignore regions.

    Returns None when nothing is left to count (m + n = 0); otherwise m + n − k ≥ max(m, n) > 0.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    n, m = len(d), len(g)
    free_d, free_g = np.ones(n, bool), np.ones(m, bool)
    if n and m:
        # Hopcroft-Karp on detections (in the given order) x GTs, as MMDetection's CrowdHumanMetric calls it,
        # so that the same boxes stay unmatched when several maximum matchings exist (ignore counts depend on it)
        dt_to_gt = maximum_bipartite_matching(csr_matrix(_overlap(d[:, :4], g, 'iou') >= iou_thr),
                                              perm_type='column')
        free_d = dt_to_gt < 0
        free_g[dt_to_gt[~free_d]] = False
    k = int(n - free_d.sum())
    if len(ign):  # unmatched boxes lying (IoA ≥ iou_thr) in an ignore region are not counted
        if n:
            n -= int(np.sum(free_d & (_overlap(d[:, :4], ign, 'ioa').max(axis=1) >= iou_thr)))
        if m:
            m -= int(np.sum(free_g & (_overlap(g, ign, 'ioa').max(axis=1) >= iou_thr)))
    return k / (m + n - k) if m + n else None


def jaccard_index(dets: Mapping, gts: Mapping, iou_thr: float = 0.5,
                  score_thrs: Iterable[float] | None = None, return_all: bool = False):
    """CrowdDet's Jaccard index (a fraction, higher is better); the rule is in the module docstring.

    Args:
        dets: {image_id: (M, 5) array x1, y1, x2, y2, score}, after NMS.
        gts: as for `log_average_miss_rate`; its images are the ones averaged over.
        iou_thr: IoU for a matching edge and IoA for an ignore-region hit.
        score_thrs: detections with score > t are kept; default 0.0, 0.1, ..., 0.9.
        return_all: also return {t: JI(t)}.

    Returns:
        max over t of JI(t), or (that max, {t: JI(t)}) with `return_all`.
    """
    images = _prepare(dets, gts)
    if not images:
        raise ReproError('JI is undefined without any image')
    thrs = [round(0.1 * i, 1) for i in range(10)] if score_thrs is None else [float(t) for t in score_thrs]
    per_thr = {}
    for t in thrs:
        ratios = [r for d, g, ign in images if (r := _image_ji(d[d[:, 4] > t], g, ign, iou_thr)) is not None]
        per_thr[t] = float(np.mean(ratios)) if ratios else 0.0
    best = max(per_thr.values())
    return (best, per_thr) if return_all else best


def crowdhuman_ap(coco_gt: dict, results: list[dict], max_dets: int = 1000) -> dict[str, float]:
    """COCO-style AP of 'person' detections with pycocotools, in percent.

    CrowdHuman images hold far more than COCO's 100 people, hence `max_dets`. Ignore regions are the
    `iscrowd=1` annotations, which COCOeval lets absorb detections. Table 3's AP is `crowddet_ap` (raw
    curve, IoU 0.5), which 'AP50' (101-point interpolated precision) only approximates.

    Args:
        coco_gt: a COCO dict such as `odgt_to_coco` returns.
        results: COCO results [{'image_id', 'category_id', 'bbox': [x, y, w, h], 'score'}].
        max_dets: detections kept per image, highest scores first.

    Returns:
        {'AP': AP@[0.5:0.95], 'AP50': AP@0.5}.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    if not results:
        return {'AP': 0.0, 'AP50': 0.0}
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress
        gt = COCO()
        gt.dataset = copy.deepcopy(coco_gt)
        gt.createIndex()
        dt = gt.loadRes(copy.deepcopy(list(results)))
        ev = COCOeval(gt, dt, 'bbox')
        ev.params.maxDets = [max_dets]
        ev.evaluate()
        ev.accumulate()
    prec = ev.eval['precision'][:, :, 0, 0, 0]  # (T iou thresholds, R recall points), area 'all'
    prec50 = prec[np.isclose(ev.params.iouThrs, 0.5)]
    return {name: float(100.0 * p[p > -1].mean()) if (p > -1).any() else 0.0
            for name, p in (('AP', prec), ('AP50', prec50))}
