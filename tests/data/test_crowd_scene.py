"""CrowdHuman runs in both profiles: the synthetic crowded scenes, CrowdDetMetric, the dataset layer and its roots."""
import json
import math
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from repro.data import synthetic
from repro.data.synthetic import SyntheticSpec, draw_scene, write_dataset
from repro.errors import ReproError
from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR, check_dataset_root, dataset_root
from conftest import folder_digest

CROWD = SyntheticSpec(seed=5, num_train=6, num_val=3, image_size=160, max_objects=12, scene='crowd')
TINY_CROWD = SyntheticSpec(scene='crowd', max_objects=14)  # as configs/profiles/tiny.py synthetic_for


def _iou(boxes):
    """(N, N) IoU of [x, y, w, h] boxes, written out here rather than taken from the code under test."""
    b = np.asarray(boxes, float).reshape(-1, 4)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    iw = np.clip(np.minimum(x2[:, None], x2) - np.maximum(x1[:, None], x1), 0, None)
    ih = np.clip(np.minimum(y2[:, None], y2) - np.maximum(y1[:, None], y1), 0, None)
    inter = iw * ih
    area = b[:, 2] * b[:, 3]
    return inter / (area[:, None] + area - inter)


def test_the_shapes_dataset_and_its_cache_key_are_unchanged():
    assert SyntheticSpec().key() == '28dba57c6017'  # the key before `scene` existed
    assert 'scene' not in SyntheticSpec().params() and SyntheticSpec().classes == synthetic.CLASSES
    assert TINY_CROWD.key() != replace(TINY_CROWD, scene='shapes').key()
    with pytest.raises(ReproError, match="synthetic scene 'mall' is unknown: choose one of shapes, crowd"):
        SyntheticSpec(scene='mall')


def test_crowd_generation_is_deterministic_and_order_free(tmp_path):
    write_dataset(CROWD, tmp_path / 'a')
    write_dataset(CROWD, tmp_path / 'b')
    assert folder_digest(tmp_path / 'a') == folder_digest(tmp_path / 'b')
    later = draw_scene(CROWD, 'train', 4)
    for i in range(4):
        draw_scene(CROWD, 'train', i)
    again = draw_scene(CROWD, 'train', 4)
    assert np.array_equal(later[0], again[0]) and later[1:] == again[1:]
    assert not np.array_equal(draw_scene(replace(CROWD, seed=6), 'train', 4)[0], later[0])


def test_crowd_json_has_one_class_people_and_ignore_regions(tmp_path):
    write_dataset(CROWD, tmp_path)
    coco = json.loads((tmp_path / 'annotations/instances_train.json').read_text())
    assert coco['categories'] == [{'id': 1, 'name': 'person', 'supercategory': 'person'}]
    size = CROWD.image_size
    for ann in coco['annotations']:
        x, y, w, h = ann['bbox']
        assert w > 0 and h > 0 and x >= 0 and y >= 0 and x + w <= size and y + h <= size
        assert ann['area'] == w * h and ann['category_id'] == 1 and ann['iscrowd'] in (0, 1)
    people = [a for a in coco['annotations'] if not a['iscrowd']]
    assert len(people) >= 3 * len(coco['images'])
    assert np.median([a['bbox'][3] / a['bbox'][2] for a in people]) > 1.5  # standing figures: tall boxes


def test_crowd_scenes_are_really_crowded():
    """Measured over the tiny profile's stand-in: neighbours overlap as in CrowdHuman, ignore regions are common.
    (CrowdHuman: 2.4 pairs an image with IoU > 0.5; here about 1.9 at 192 px.)"""
    pairs_05, has_neighbour, with_ignore = [], [], []
    for i in range(30):
        _, objects, ignores = draw_scene(TINY_CROWD, 'train', i)
        iou = _iou([box for _, box, _ in objects])
        np.fill_diagonal(iou, 0)
        pairs_05.append(int((np.triu(iou) > 0.5).sum()))
        has_neighbour.extend(iou.max(1) >= 0.3)
        with_ignore.append(bool(ignores))
    assert np.mean(pairs_05) > 1.2
    assert np.mean(has_neighbour) > 0.65
    assert 0.3 < np.mean(with_ignore) < 0.8


# Two images. Image 1: people A (0, 0)-(10, 20) and B (20, 0)-(30, 20), an ignore region (50, 0)-(80, 30).
# Image 2: person C (0, 0)-(10, 10). Detections by score: d1 = A (0.9, TP), d2 inside the ignore region (0.8,
# discarded), d3 far from everything (0.7, FP), d4 = C on image 2 (0.6, TP); B is missed. 3 GTs.
GT = {'images': [{'id': 1, 'file_name': 'a.png', 'height': 100, 'width': 120},
                 {'id': 2, 'file_name': 'b.png', 'height': 100, 'width': 120}],
      'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [0, 0, 10, 20], 'area': 200, 'iscrowd': 0},
                      {'id': 2, 'image_id': 1, 'category_id': 1, 'bbox': [20, 0, 10, 20], 'area': 200, 'iscrowd': 0},
                      {'id': 3, 'image_id': 1, 'category_id': 1, 'bbox': [50, 0, 30, 30], 'area': 900, 'iscrowd': 1},
                      {'id': 4, 'image_id': 2, 'category_id': 1, 'bbox': [0, 0, 10, 10], 'area': 100, 'iscrowd': 0}],
      'categories': [{'id': 1, 'name': 'person'}]}
DETS = {1: ([[0, 0, 10, 20], [55, 5, 65, 15], [100, 80, 110, 90]], [0.9, 0.8, 0.7]), 2: ([[0, 0, 10, 10]], [0.6])}


def _sample(image_id):
    boxes, scores = DETS[image_id]
    return {'img_id': image_id, 'pred_instances': {'bboxes': torch.tensor(boxes, dtype=torch.float32),
                                                   'scores': torch.tensor(scores)}}


def test_crowd_metric_on_hand_made_detections(tmp_path):
    from repro.evaluation import CrowdDetMetric
    (tmp_path / 'gt.json').write_text(json.dumps(GT))
    metric = CrowdDetMetric(ann_file=str(tmp_path / 'gt.json'))
    metric.process({}, [_sample(1), _sample(2)])
    out = metric.evaluate(2)
    assert set(out) == {'crowd/AP', 'crowd/MR', 'crowd/JI'}
    # kept detections by score: TP, FP, TP -> recall 1/3, 1/3, 2/3; precision 1, 1/2, 2/3;
    # AP = trapezoid = (1/3) * (1/2 + 2/3) / 2 = 7/36
    assert out['crowd/AP'] == pytest.approx(7 / 36)
    # miss rate 2/3, 2/3, 1/3 at FPPI 0, 1/2, 1/2 (2 images): the 7 references up to 0.316 read 2/3, the two above
    # 1/2 (0.562, 1.0) are never reached and read the last point, 1/3
    assert out['crowd/MR'] == pytest.approx(math.exp((7 * math.log(2 / 3) + 2 * math.log(1 / 3)) / 9))
    # JI at t < 0.6: image 1 k=1, n=3-1 (d2 in the ignore region), m=2 -> 1/3; image 2 -> 1; mean 2/3 (the max)
    assert out['crowd/JI'] == pytest.approx(2 / 3)


def test_crowd_metric_counts_only_the_evaluated_images(tmp_path):
    from repro.evaluation import CrowdDetMetric
    (tmp_path / 'gt.json').write_text(json.dumps(GT))
    metric = CrowdDetMetric(ann_file=str(tmp_path / 'gt.json'))
    metric.process({}, [_sample(2)])  # a val subset: image 1 and its missed person B are not in it
    out = metric.evaluate(1)
    assert out['crowd/MR'] < 1e-9 and out['crowd/JI'] == 1.0
    metric.process({}, [{**_sample(2), 'img_id': 7}])
    with pytest.raises(ReproError, match='image id 7 was evaluated but is not in .*gt.json'):
        metric.evaluate(1)


@pytest.fixture
def small_stand_in(monkeypatch, tmp_path):
    """The tiny profile's crowd stand-in at 4 + 4 images, so that compiling takes a second; records the spec."""
    real, seen = synthetic.ensure_dataset, []

    def small(spec, cache_root=None):
        seen.append(spec)
        return real(replace(spec, num_train=4, num_val=4), tmp_path / 'cache')
    monkeypatch.setattr(synthetic, 'ensure_dataset', small)
    return seen


def test_a_crowdhuman_config_compiles_in_tiny_with_the_crowd_data_and_the_metric(small_stand_in):
    from mmdet.registry import METRICS
    compiled = compile_config(CONFIG_DIR / 'methods/pgd_ddod_crowdhuman.py', 'tiny')
    assert [s.scene for s in small_stand_in] == ['crowd', 'crowd'] and small_stand_in[0].max_objects == 14
    cfg, teacher = compiled.cfg, compiled.teacher.cfg
    assert cfg.dataset == {'name': 'crowdhuman', 'classes': ('person',)}
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[loader].dataset
        assert ds.metainfo == {'classes': ('person',)} and 'synthetic-' in ds.data_root
        assert ds.data_prefix.img in ('train/', 'val/')
    assert (cfg.val_evaluator.type, cfg.test_evaluator.type) == ('CrowdDetMetric', 'CrowdDetMetric')
    assert cfg.val_evaluator.ann_file.endswith('annotations/instances_val.json')
    assert 'metric' not in cfg.val_evaluator  # CocoMetric's keys are gone, not merged in
    assert cfg.custom_imports.imports == ['repro.evaluation', 'repro.distill']
    assert cfg.model.student.bbox_head.num_classes == cfg.model.teacher.bbox_head.num_classes == 1
    assert cfg.model.student.test_cfg.max_per_img == 500
    assert cfg.model.distill.terms.cls.loss.alpha == cfg.model.distill.terms.reg.loss.alpha == 0.001
    assert teacher.train_cfg.max_epochs == 3 * cfg.train_cfg.max_epochs == 36
    assert teacher.train_dataloader.dataset.pipeline[2].type == 'Resize'  # tiny's 192 px, not the 480-960 range
    ann = json.loads(open(cfg.val_evaluator.ann_file).read())
    assert [c['name'] for c in ann['categories']] == ['person'] and len(ann['images']) == 4
    import repro.evaluation  # noqa: F401  what custom_imports loads
    METRICS.build(cfg.val_evaluator)


def test_the_coco_profile_reads_a_crowdhuman_root(tmp_path, monkeypatch):
    config = CONFIG_DIR / 'detectors/ddod_r50_crowdhuman.py'
    with pytest.raises(ReproError, match=(
            r'crowdhuman at .* is missing annotations/crowdhuman_train.json, annotations/crowdhuman_val.json, '
            r'Images\. Download .*crowdhuman\.org.*python -m repro\.data\.crowdhuman_root ROOT.*--data-root DIR '
            r'\(or set REPRO_CROWDHUMAN_ROOT\), or use --profile tiny')):
        compile_config(config, 'coco', data_root=str(tmp_path))
    monkeypatch.setenv('REPRO_CROWDHUMAN_ROOT', str(tmp_path / 'elsewhere'))
    with pytest.raises(ReproError, match='crowdhuman at .*elsewhere is missing'):
        compile_config(config, 'coco')
    for name in ('annotations/crowdhuman_train.json', 'annotations/crowdhuman_val.json'):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text('{}')
    (tmp_path / 'Images').mkdir()
    cfg = compile_config(config, 'coco', data_root=str(tmp_path)).cfg
    assert cfg.val_evaluator.ann_file == str(tmp_path / 'annotations/crowdhuman_val.json')
    assert cfg.train_dataloader.dataset.data_prefix.img == 'Images/'
    assert cfg.train_dataloader.dataset.pipeline[2].scale == (1400, 800)
    assert cfg.model.bbox_head.num_classes == 1 and cfg.model.backbone.init_cfg.type == 'Pretrained'
    teacher = compile_config(CONFIG_DIR / 'teachers/ddod_r101_crowdhuman.py', 'coco', data_root=str(tmp_path)).cfg
    assert teacher.train_dataloader.dataset.pipeline[2].scale == [(1400, 480), (1400, 960)]
    assert dataset_root('crowdhuman', '/data/ch') == Path('/data/ch')  # --data-root wins over the variable


def test_crowdhuman_root_converts_the_downloaded_odgt(tmp_path):
    from repro.data.crowdhuman_root import convert_root
    with pytest.raises(ReproError, match='no Images/ folder'):
        convert_root(tmp_path)
    (tmp_path / 'Images').mkdir()
    cv2.imwrite(str(tmp_path / 'Images/a.jpg'), np.zeros((40, 60, 3), np.uint8))  # h 40, w 60
    with pytest.raises(ReproError, match='no annotation_train.odgt'):
        convert_root(tmp_path)
    line = json.dumps({'ID': 'a', 'gtboxes': [{'tag': 'person', 'fbox': [50, 5, 20, 30]},
                                              {'tag': 'mask', 'fbox': [0, 0, 10, 10]}]})
    (tmp_path / 'annotation_train.odgt').write_text(line + '\n')
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'annotations/annotation_val.odgt').write_text(line + '\n')
    convert_root(tmp_path)
    check_dataset_root('crowdhuman', tmp_path)
    coco = json.loads((tmp_path / 'annotations/crowdhuman_val.json').read_text())
    assert coco['images'][0]['height'] == 40 and coco['images'][0]['width'] == 60
    # the person's x in [50, 70) is clipped to the 60 px width: [50, 60)
    assert [(a['bbox'], a['iscrowd']) for a in coco['annotations']] == [([50, 5, 10, 30], 0), ([0, 0, 10, 10], 1)]


def test_result_metrics_are_table_3_columns_in_percent():
    from repro.training.metrics import run_metrics
    assert run_metrics({'crowd/AP': 0.9, 'crowd/MR': 0.414, 'crowd/JI': 0.8141}) == {
        'AP': 90.0, 'MR': 41.4, 'JI': 81.41}
    assert run_metrics({'coco/bbox_mAP': 0.4, 'coco/bbox_mAP_50': 0.6, 'coco/bbox_mAP_75': 0.45,
                        'coco/bbox_mAP_s': 0.2, 'coco/bbox_mAP_m': 0.4, 'coco/bbox_mAP_l': 0.5})['AP'] == 40.0


def test_dataset_layer_errors_are_one_line(tmp_path):
    with pytest.raises(ReproError, match="dataset layer 'crowdhuman' alone is no run: list it in the _base_"):
        compile_config(CONFIG_DIR / 'datasets/crowdhuman.py', 'tiny')
    other = tmp_path / 'other.py'
    base = CONFIG_DIR / 'detectors/ddod_r50.py'
    other.write_text(f"_base_ = '{base}'\ndataset = dict(name='mall', classes=('a',))\n")
    with pytest.raises(ReproError, match="no synthetic stand-in for dataset 'mall': add one to synthetic_for"):
        compile_config(other, 'tiny')
    with pytest.raises(ReproError, match="unknown dataset 'mall' in the config's `dataset`: choose one of crowdhuman"):
        compile_config(other, 'coco')
