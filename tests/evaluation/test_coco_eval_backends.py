"""faster-coco-eval is offered (REPRO_COCO_EVAL) only because it gives pycocotools' numbers: checked here to 1e-4 on
the same predictions, raw and through mmdet's CocoMetric; and choosing the backend."""
import json
import sys

import numpy as np
import pytest
import torch

from conftest import REPO
from repro.errors import ReproError
from repro.evaluation import coco_backend
from repro.evaluation.coco_backend import FasterCocoMetric, backend, use_backend

sys.path.insert(0, str(REPO))  # benchmarks/ is a top-level package of the repo, not installed
from benchmarks.coco_eval import HEIGHT, WIDTH, evaluate, make_set  # noqa: E402

pytest.importorskip('faster_coco_eval')  # a test dependency (pyproject's test extra)
TOLERANCE = 1e-4


@pytest.fixture(scope='module')
def coco_set():
    return make_set(120, classes=12)


def test_the_same_summary_and_per_class_precision_as_pycocotools(coco_set):
    gt, preds = coco_set
    reference, _ = evaluate('pycocotools', gt, preds)
    faster, _ = evaluate('faster-coco-eval', gt, preds)
    assert 0.05 < reference.stats[0] < 0.95  # a set where the numbers mean something
    np.testing.assert_allclose(faster.stats, reference.stats, rtol=0, atol=TOLERANCE)
    precision, expected = faster.eval['precision'], reference.eval['precision']  # the classwise table's source
    assert precision.shape == expected.shape == (10, 101, 12, 4, 3)
    np.testing.assert_allclose(precision, expected, rtol=0, atol=TOLERANCE)
    np.testing.assert_allclose(faster.eval['recall'], reference.eval['recall'], rtol=0, atol=TOLERANCE)


def test_changed_predictions_change_both_alike(coco_set):
    """Not a comparison of two constants: worse predictions lower both, by the same amount."""
    gt, preds = coco_set
    shifted = [dict(p, bbox=[p['bbox'][0] + 0.3 * p['bbox'][2], *p['bbox'][1:]]) for p in preds]
    reference, _ = evaluate('pycocotools', gt, shifted)
    faster, _ = evaluate('faster-coco-eval', gt, shifted)
    original, _ = evaluate('pycocotools', gt, preds)
    assert reference.stats[0] < original.stats[0] - 0.05
    np.testing.assert_allclose(faster.stats, reference.stats, rtol=0, atol=TOLERANCE)


def mmdet_metric(kind, ann_file, gt, preds):
    """mmdet's CocoMetric (or ours) fed the predictions as a detector's data samples."""
    metric = kind(ann_file=str(ann_file), classwise=True)
    metric.dataset_meta = dict(classes=tuple(c['name'] for c in gt['categories']))
    label_of = {c['id']: i for i, c in enumerate(gt['categories'])}
    for image in gt['images']:
        mine = [p for p in preds if p['image_id'] == image['id']]
        boxes = torch.tensor([[x, y, x + w, y + h] for x, y, w, h in (p['bbox'] for p in mine)])
        metric.process({}, [dict(img_id=image['id'], ori_shape=(HEIGHT, WIDTH), pred_instances=dict(
            bboxes=boxes, scores=torch.tensor([p['score'] for p in mine]),
            labels=torch.tensor([label_of[p['category_id']] for p in mine])))])
    return metric.compute_metrics(metric.results)


def test_through_mmdets_coco_metric_the_metrics_are_the_same(coco_set, tmp_path):
    from mmdet.evaluation.metrics import CocoMetric, coco_metric
    gt, preds = coco_set
    ann_file = tmp_path / 'val.json'
    ann_file.write_text(json.dumps(gt))
    reference = coco_metric.COCOeval
    expected = mmdet_metric(CocoMetric, ann_file, gt, preds)
    got = mmdet_metric(FasterCocoMetric, ann_file, gt, preds)
    assert coco_metric.COCOeval is reference  # put back after the computation
    assert set(got) == set(expected) and 'bbox_mAP' in got and 'bbox_mAP_s' in got
    assert got == pytest.approx(expected, abs=TOLERANCE) and expected['bbox_mAP'] > 0.05


def test_the_backend_comes_from_the_environment(monkeypatch):
    from mmengine.config import Config
    cfg = Config(dict(val_evaluator=dict(type='CocoMetric', ann_file='a.json'),
                      test_evaluator=[dict(type='CocoMetric'), dict(type='CrowdDetMetric')]))
    monkeypatch.delenv(coco_backend.ENV, raising=False)
    assert use_backend(cfg) == 'pycocotools' and cfg.val_evaluator.type == 'CocoMetric'
    monkeypatch.setenv(coco_backend.ENV, 'faster-coco-eval')
    assert use_backend(cfg) == 'faster-coco-eval'
    assert cfg.val_evaluator.type == 'FasterCocoMetric' and cfg.val_evaluator.ann_file == 'a.json'
    assert [m.type for m in cfg.test_evaluator] == ['FasterCocoMetric', 'CrowdDetMetric']


def test_a_backend_that_cannot_be_used_is_one_error(monkeypatch):
    monkeypatch.setenv(coco_backend.ENV, 'fast')
    with pytest.raises(ReproError, match='unknown COCO evaluation backend; choose one of pycocotools, faster'):
        backend()
    monkeypatch.setenv(coco_backend.ENV, 'faster-coco-eval')
    monkeypatch.setitem(sys.modules, 'faster_coco_eval', None)  # as if it were not installed
    with pytest.raises(ReproError, match='pip install faster-coco-eval==1.8.0, or unset REPRO_COCO_EVAL'):
        backend()
