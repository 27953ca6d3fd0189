"""CrowdDetMetric: PGD Table 3's crowd metrics (AP, MR⁻², JI) as an mmengine metric over a COCO-format val set.

The numbers come from repro.data.crowdhuman (CrowdDet's rules, spelled out in that module's docstring); this
class only collects the predictions and the ground truth. It reads any COCO json whose ignore regions are
`iscrowd=1` annotations: CrowdHuman converted by repro.data.crowdhuman_root, or the tiny profile's synthetic
crowded scenes. (mmdet's own `CrowdHumanMetric` reads the .odgt files instead, hence the other name.)
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np
from mmdet.registry import METRICS
from mmengine.evaluator import BaseMetric
from mmengine.fileio import get_text

from repro.data.crowdhuman import coco_to_gts, crowddet_ap, jaccard_index, log_average_miss_rate
from repro.errors import ReproError


@METRICS.register_module()
class CrowdDetMetric(BaseMetric):
    """AP (CrowdDet's, IoU 0.5), MR⁻² and JI of the evaluated images, as fractions like mmdet's metrics.

    Logged as `crowd/AP`, `crowd/MR` (lower is better) and `crowd/JI`; Table 3 prints 100 times each.
    Only the images the loader evaluated count (a val subset gives that subset's numbers).

    Args:
        ann_file: the COCO json of the evaluated split (ignore regions: iscrowd=1).
        iou_thr: IoU for a match, and IoA for a hit on an ignore region (CrowdDet: 0.5).
        collect_device, prefix: as for mmengine's BaseMetric.
        backend_args: mmengine file backend for reading `ann_file`.
    """
    default_prefix = 'crowd'

    def __init__(self, ann_file: str, iou_thr: float = 0.5, collect_device: str = 'cpu',
                 prefix: str | None = None, backend_args: dict | None = None):
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.ann_file, self.iou_thr, self.backend_args = ann_file, iou_thr, backend_args

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for sample in data_samples:
            pred = sample['pred_instances']
            boxes = pred['bboxes'].cpu().numpy().reshape(-1, 4)
            scores = pred['scores'].cpu().numpy().reshape(-1, 1)
            self.results.append((sample['img_id'], np.hstack([boxes, scores]).astype(np.float64)))

    def compute_metrics(self, results: list) -> dict[str, float]:
        all_gts = coco_to_gts(json.loads(get_text(self.ann_file, backend_args=self.backend_args)))
        dets = dict(results)  # a distributed sampler may repeat images: each counts once
        unknown = [image_id for image_id in dets if image_id not in all_gts]
        if unknown:
            raise ReproError(f'image id {unknown[0]!r} was evaluated but is not in {self.ann_file}: the val '
                             'loader and the evaluator read different annotation files')
        gts = {image_id: all_gts[image_id] for image_id in dets}
        return {'AP': crowddet_ap(dets, gts, self.iou_thr) / 100,
                'MR': log_average_miss_rate(dets, gts, self.iou_thr) / 100,
                'JI': jaccard_index(dets, gts, self.iou_thr)}
