"""Which COCOeval computes a run's COCO metrics: pycocotools' (the reference, the default) or faster-coco-eval's.

`REPRO_COCO_EVAL=faster-coco-eval` makes every run evaluate with faster-coco-eval's C++ COCOeval (8x faster on
a val2017-sized set: benchmarks/coco_eval.py, benchmarks/RESULTS.md). It is offered because it gives
the same numbers: tests/evaluation/test_coco_eval_backends.py checks its twelve summary numbers and per-class precision
against pycocotools' on the same predictions, to 1e-4, through mmdet's CocoMetric too. The choice is not part of
a run's key (the metrics are the same); the record says which backend evaluated (`coco_eval`).
"""
from __future__ import annotations

import os

from mmdet.evaluation.metrics import CocoMetric
from mmdet.evaluation.metrics import coco_metric
from mmdet.registry import METRICS

from repro.errors import ReproError

ENV = 'REPRO_COCO_EVAL'
BACKENDS = ('pycocotools', 'faster-coco-eval')
PIN = 'faster-coco-eval==1.8.0'  # the release the identity tests ran against


def backend() -> str:
    """The backend $REPRO_COCO_EVAL names (default pycocotools); a one-line error if it cannot be used here."""
    name = os.environ.get(ENV) or 'pycocotools'
    if name not in BACKENDS:
        raise ReproError(f"{ENV}={name}: unknown COCO evaluation backend; choose one of {', '.join(BACKENDS)}")
    if name == 'faster-coco-eval':
        try:
            import faster_coco_eval  # noqa: F401
        except ImportError as err:
            raise ReproError(f'{ENV}=faster-coco-eval, but faster-coco-eval does not import here ({err}): '
                             f'pip install {PIN}, or unset {ENV} to evaluate with pycocotools') from err
    return name


def use_backend(cfg) -> str:
    """Point the config's COCO metrics at the chosen backend; returns its name. Called after the run key is made."""
    name = backend()
    if name == 'faster-coco-eval':
        for key in ('val_evaluator', 'test_evaluator'):
            metrics = cfg.get(key)
            for metric in metrics if isinstance(metrics, list) else [metrics] if metrics else []:
                if metric.get('type') in ('CocoMetric', 'mmdet.CocoMetric'):
                    metric.type = 'FasterCocoMetric'
    return name


@METRICS.register_module()
class FasterCocoMetric(CocoMetric):
    """mmdet's CocoMetric, its COCOeval replaced by faster-coco-eval's for the computation (nothing else differs:
    loading, formatting and the metric names are CocoMetric's own)."""

    def compute_metrics(self, results: list) -> dict[str, float]:
        from unittest import mock

        from faster_coco_eval import COCOeval_faster
        # COCOeval: the name CocoMetric.compute_metrics builds its evaluator from
        with mock.patch.object(coco_metric, 'COCOeval', COCOeval_faster):
            return super().compute_metrics(results)
