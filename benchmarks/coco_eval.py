"""COCO evaluation time: pycocotools' COCOeval (the reference) against faster-coco-eval, on the same predictions.

    python -m benchmarks.coco_eval [--images 5000] [--json out.json]

A val2017-sized set is generated (no COCO needed): --images images of 640x480, 80 classes, 1 to 13 boxes each
(COCO averages 7.3) with 2% crowd boxes, and 100 predictions per image as mmdet keeps them: three noisy copies of
every box (80% with the right class) and the rest background boxes of low score. Both backends evaluate bbox AP
with CocoMetric's settings (maxDets 100/300/1000); each time is evaluate + accumulate + summarize, and the largest
difference between their twelve summary numbers is printed beside it. (The metric tests check that difference
on every run of the suite: tests/evaluation/test_coco_eval_backends.py.)
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import time
from pathlib import Path

import numpy as np

MAX_DETS = [100, 300, 1000]  # mmdet's CocoMetric (proposal_nums)
WIDTH, HEIGHT = 640, 480


def make_set(images: int, classes: int = 80, dets: int = 100, seed: int = 0) -> tuple[dict, list[dict]]:
    """A COCO-format ground truth and a prediction list for it (see the module's docstring)."""
    rng = np.random.default_rng(seed)
    gt = dict(images=[dict(id=i + 1, width=WIDTH, height=HEIGHT, file_name=f'{i}.jpg') for i in range(images)],
              categories=[dict(id=c + 1, name=f'class{c}') for c in range(classes)], annotations=[])
    preds = []
    for image in gt['images']:
        boxes = int(rng.integers(1, 14))
        for _ in range(boxes):
            w, h = rng.uniform(4, 300, 2)  # small, medium and large objects
            x, y = rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h)
            label = int(rng.integers(1, classes + 1))
            gt['annotations'].append(dict(id=len(gt['annotations']) + 1, image_id=image['id'], category_id=label,
                                          bbox=[x, y, w, h], area=w * h, iscrowd=int(rng.random() < 0.02)))
            for _ in range(3):
                dx, dy, dw, dh = rng.normal(0, 0.1, 4) * [w, h, w, h]
                pred_label = label if rng.random() < 0.8 else int(rng.integers(1, classes + 1))
                preds.append(dict(image_id=image['id'], category_id=pred_label, score=float(rng.random()),
                                  bbox=[x + dx, y + dy, max(1.0, w + dw), max(1.0, h + dh)]))
        for _ in range(dets - 3 * boxes):
            w, h = rng.uniform(4, 300, 2)
            preds.append(dict(image_id=image['id'], category_id=int(rng.integers(1, classes + 1)),
                              bbox=[rng.uniform(0, WIDTH - w), rng.uniform(0, HEIGHT - h), w, h],
                              score=float(rng.random() * 0.5)))
    return gt, preds


def evaluate(backend: str, gt: dict, preds: list[dict]):
    """The finished evaluator (its .stats and .eval) and the seconds evaluate + accumulate + summarize took."""
    if backend == 'pycocotools':
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    else:
        from faster_coco_eval import COCO
        from faster_coco_eval import COCOeval_faster as COCOeval
    with contextlib.redirect_stdout(io.StringIO()):  # both print their progress and summary
        coco = COCO()
        coco.dataset = copy.deepcopy(gt)
        coco.createIndex()
        results = coco.loadRes(copy.deepcopy(preds))
        start = time.perf_counter()
        evaluator = COCOeval(coco, results, 'bbox')
        evaluator.params.maxDets = list(MAX_DETS)
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
        seconds = time.perf_counter() - start
    return evaluator, seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m benchmarks.coco_eval', description=__doc__.splitlines()[0])
    parser.add_argument('--images', type=int, default=5000, help='val images (5000: COCO val2017)')
    parser.add_argument('--json', type=Path, help='also write the numbers here')
    args = parser.parse_args(argv)
    if args.images < 1:
        parser.error('--images takes a positive number')
    try:
        import faster_coco_eval
    except ImportError:
        parser.exit(2, 'error: faster-coco-eval is not installed: pip install faster-coco-eval==1.8.0\n')
    gt, preds = make_set(args.images)
    reference, reference_s = evaluate('pycocotools', gt, preds)
    faster, faster_s = evaluate('faster-coco-eval', gt, preds)
    diff = float(np.abs(np.asarray(reference.stats) - np.asarray(faster.stats)).max())
    result = dict(images=args.images, gt_boxes=len(gt['annotations']), predictions=len(preds),
                  pycocotools_s=round(reference_s, 2), faster_coco_eval_s=round(faster_s, 2),
                  speedup=round(reference_s / faster_s, 1), max_stat_difference=diff,
                  faster_coco_eval=faster_coco_eval.__version__, AP=round(float(reference.stats[0]) * 100, 2))
    print(f"{args.images} images, {len(gt['annotations'])} boxes, {len(preds)} predictions (bbox AP "
          f"{result['AP']}):")
    print(f'  pycocotools COCOeval      {reference_s:8.2f} s')
    print(f"  faster-coco-eval {faster_coco_eval.__version__:8} {faster_s:8.2f} s   {result['speedup']}x faster")
    print(f'  largest difference of the 12 summary numbers: {diff:.2g}')
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + '\n')


if __name__ == '__main__':
    main()
