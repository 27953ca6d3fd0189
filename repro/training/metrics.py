"""The papers' numbers from mmengine's evaluation: mmdet's CocoMetric keys, or CrowdDetMetric's, as AP, AP50, ...
in percent."""
from __future__ import annotations

METRICS = {'AP': 'bbox_mAP', 'AP50': 'bbox_mAP_50', 'AP75': 'bbox_mAP_75', 'APs': 'bbox_mAP_s',
           'APm': 'bbox_mAP_m', 'APl': 'bbox_mAP_l'}


CROWD_METRICS = {'AP': 'crowd/AP', 'MR': 'crowd/MR', 'JI': 'crowd/JI'}  # CrowdDetMetric (CrowdHuman configs)


def coco_metrics(metrics: dict) -> dict[str, float]:
    """mmdet's CocoMetric keys (fractions) as the papers print them: AP, AP50, ... in percent.

    CocoMetric returns no keys at all when the model predicted no box on the whole val split: that is AP 0.
    """
    if not any(k.startswith('coco/') for k in metrics):
        return {name: 0.0 for name in METRICS}
    return {name: round(float(metrics[f'coco/{key}']) * 100, 2) for name, key in METRICS.items()}


def run_metrics(metrics: dict) -> dict[str, float]:
    """The papers' numbers, in percent: CrowdDetMetric's AP, MR⁻² and JI where it ran, else `coco_metrics`."""
    if any(k.startswith('crowd/') for k in metrics):
        return {name: round(float(metrics[key]) * 100, 2) for name, key in CROWD_METRICS.items()}
    return coco_metrics(metrics)

