"""CrowdHuman conversion and metrics on hand-made cases whose answers are worked out in the comments."""
import json
import math

import numpy as np
import pytest

from repro.data.crowdhuman import (coco_to_gts, crowddet_ap, crowdhuman_ap, jaccard_index, log_average_miss_rate,
                                   odgt_to_coco, results_to_dets)
from repro.errors import ReproError

LINES = [
    json.dumps({'ID': 'img_a', 'gtboxes': [
        {'tag': 'person', 'fbox': [10, 20, 30, 40], 'vbox': [10, 20, 30, 40], 'hbox': [15, 20, 10, 10],
         'extra': {'box_id': 0, 'occ': 0}},
        {'tag': 'mask', 'fbox': [100, 0, 50, 50], 'extra': {'ignore': 1}},
        {'tag': 'person', 'fbox': [0, 60, 20, 20], 'extra': {'ignore': 1}},
    ]}),
    json.dumps({'ID': 'img_b', 'gtboxes': [{'tag': 'person', 'fbox': [-10, 5, 30, 20], 'extra': {}}]}),
]
SIZES = {'img_a': (100, 200), 'img_b': (50, 60), 'x': (10, 10)}  # (h, w)


def _box(x1, y1, x2, y2):
    return [float(x1), float(y1), float(x2), float(y2)]


def test_odgt_to_coco_boxes_ignores_ids_and_areas(tmp_path):
    coco = odgt_to_coco(LINES, image_sizes=SIZES)
    assert [(i['id'], i['file_name'], i['height'], i['width']) for i in coco['images']] == [
        (1, 'img_a.jpg', 100, 200), (2, 'img_b.jpg', 50, 60)]
    assert coco['categories'] == [{'id': 1, 'name': 'person'}]
    anns = coco['annotations']
    assert [a['id'] for a in anns] == [1, 2, 3, 4]
    assert [a['image_id'] for a in anns] == [1, 1, 1, 2]
    # img_b's fbox x in [-10, 20) is clipped to [0, 20): 20 x 20 = 400
    assert [a['bbox'] for a in anns] == [[10, 20, 30, 40], [100, 0, 50, 50], [0, 60, 20, 20], [0, 5, 20, 20]]
    assert [a['area'] for a in anns] == [1200, 2500, 400, 400]  # 30*40, 50*50, 20*20, 20*20
    assert [a['iscrowd'] for a in anns] == [0, 1, 1, 0]  # 'mask' tag and extra.ignore=1 are ignore regions
    unclipped = odgt_to_coco(LINES, image_sizes=SIZES, clip=False)['annotations'][3]
    assert unclipped['bbox'] == [-10, 5, 30, 20] and unclipped['area'] == 600
    # a file path works too, blank lines are skipped, and a record's own height/width are used
    path = tmp_path / 'val.odgt'
    path.write_text('\n'.join([LINES[0], '', json.dumps({'ID': 'c', 'height': 9, 'width': 8, 'gtboxes': []})]))
    from_file = odgt_to_coco(path, image_sizes=SIZES)
    assert [(i['file_name'], i['height'], i['width']) for i in from_file['images']] == [
        ('img_a.jpg', 100, 200), ('c.jpg', 9, 8)]


@pytest.mark.parametrize('bad, match', [
    ('{"ID": "x", "gtboxes": [', 'line 2: not valid JSON'),
    ('{"ID": "x", "gtboxes": [{"tag": "person", "fbox": [1, 2, 3]}]}', r'line 2: gtboxes\[0\] needs "fbox"'),
    ('{"ID": "x", "gtboxes": [{"tag": "dog", "fbox": [1, 2, 3, 4]}]}', "line 2: gtboxes\\[0\\] has tag 'dog'"),
    ('{"gtboxes": []}', 'line 2: expected a JSON object with a string "ID"'),
    ('{"ID": "img_a", "gtboxes": []}', "line 2: ID 'img_a' repeats line 1"),
    ('{"ID": "nosize", "gtboxes": []}', 'line 2: no image size'),
])
def test_odgt_malformed_line_names_the_line(bad, match):
    with pytest.raises(ReproError, match=match):
        odgt_to_coco([LINES[0], bad], image_sizes=SIZES)


def test_mr_perfect_detections_hit_the_floor():
    gts = {1: (np.array([_box(0, 0, 10, 10), _box(20, 0, 30, 10)]), np.array([False, False])),
           2: np.array([_box(5, 5, 25, 45)])}  # plain (G, 4) array: no ignore regions
    dets = {1: np.array([_box(0, 0, 10, 10) + [0.9], _box(20, 0, 30, 10) + [0.8]]),
            2: np.array([_box(5, 5, 25, 45) + [0.7]])}
    # miss rate 0 at every reference -> floored to 1e-10 -> 100 * 1e-10 = 1e-8 %
    assert log_average_miss_rate(dets, gts) == pytest.approx(1e-8)


def test_mr_all_missed_is_100():
    gts = {1: np.array([_box(0, 0, 10, 10)])}
    assert log_average_miss_rate({}, gts) == pytest.approx(100.0)  # no detections: miss rate 1
    fp = {1: np.array([_box(50, 50, 60, 60) + [0.9]])}
    assert log_average_miss_rate(fp, gts) == pytest.approx(100.0)  # one FP (FPPI 1), miss rate 1


def test_mr_constant_half():
    # 1 image, 2 GTs; a TP at 0.9 then an FP at 0.5: curve (FPPI 0, MR .5), (FPPI 1, MR .5) -> 50 %
    gts = {7: np.array([_box(0, 0, 10, 10), _box(40, 0, 50, 10)])}
    dets = {7: np.array([_box(0, 0, 10, 10) + [0.9], _box(100, 100, 110, 110) + [0.5]])}
    assert log_average_miss_rate(dets, gts) == pytest.approx(50.0)


def test_mr_curve_sampling():
    # 8 images, one GT each (8 GTs); FPPI steps by 1/8. By descending score:
    #   TP (MR 7/8, FPPI 0), FP (7/8, .125), TP, TP (5/8, .125), FP (5/8, .25)
    # references .01 .0178 .0316 .0562 .1: first point with FPPI >= ref is the first FP -> 7/8
    # reference .1778: first point with FPPI >= it is the second FP -> 5/8; .3162 .5623 1: none, last -> 5/8
    gt = _box(0, 0, 10, 10)
    gts = {i: np.array([gt]) for i in range(8)}
    fp = _box(50, 50, 60, 60)
    dets = {0: np.array([gt + [0.95]]), 1: np.array([fp + [0.9]]), 2: np.array([gt + [0.85], fp + [0.7]]),
            3: np.array([gt + [0.8]])}
    expected = 100 * math.exp((5 * math.log(7 / 8) + 4 * math.log(5 / 8)) / 9)  # ≈ 75.7 %
    assert log_average_miss_rate(dets, gts) == pytest.approx(expected)


def test_mr_detection_on_ignore_region_is_not_a_false_positive():
    boxes = np.array([_box(0, 0, 10, 10), _box(100, 0, 200, 100)])
    ignore = np.array([False, True])
    # two detections well inside the ignore region: IoU with it is only 0.01 but IoA is 1
    dets = {1: np.array([_box(110, 10, 120, 20) + [0.95], _box(150, 50, 160, 60) + [0.9],
                         _box(0, 0, 10, 10) + [0.5]])}
    assert log_average_miss_rate(dets, {1: (boxes, ignore)}) == pytest.approx(1e-8)  # perfect
    # if the region were a plain GT, both would be FPs ahead of the TP: (FPPI 1, MR 1) is sampled -> 100 %
    assert log_average_miss_rate(dets, {1: (boxes[:1], ignore[:1])}) == pytest.approx(100.0)


def test_mr_rejects_unknown_images():
    with pytest.raises(ReproError, match='image id 9'):
        log_average_miss_rate({9: np.zeros((0, 5))}, {1: np.array([_box(0, 0, 1, 1)])})


def test_ji_one_match_of_two_gts_and_three_dets():
    gts = {1: np.array([_box(0, 0, 10, 10), _box(20, 0, 30, 10)])}
    dets = {1: np.array([_box(0, 0, 10, 10) + [0.95], _box(50, 50, 60, 60) + [0.95],
                         _box(70, 70, 80, 80) + [0.95]])}
    assert jaccard_index(dets, gts) == pytest.approx(1 / (3 + 2 - 1))  # k=1, n=3, m=2 -> 0.25


def test_ji_perfect_and_threshold_selection():
    gts = {1: np.array([_box(0, 0, 10, 10), _box(20, 0, 30, 10)])}
    dets = {1: np.array([_box(0, 0, 10, 10) + [0.8], _box(20, 0, 30, 10) + [0.8],
                         _box(50, 50, 60, 60) + [0.3], _box(70, 70, 80, 80) + [0.2]])}
    best, per_thr = jaccard_index(dets, gts, return_all=True)
    # t=0, .1: all 4 kept -> 2/(2+4-2) = .5; t=.2: score > .2 keeps 3 -> 2/(2+3-2) = 2/3;
    # t=.3...7: the 2 TPs -> 1; t=.8, .9: scores must exceed t, nothing kept -> 0/(2+0-0) = 0
    expected = {0.0: .5, 0.1: .5, 0.2: 2 / 3, 0.3: 1, 0.4: 1, 0.5: 1, 0.6: 1, 0.7: 1, 0.8: 0, 0.9: 0}
    assert per_thr == pytest.approx(expected)
    assert best == 1.0


def test_ji_uses_maximum_bipartite_matching_where_mr_matches_greedily():
    # GT1 [0,10], GT2 [3,13] (x ranges; all boxes 10 high).
    # det1 [1,11] (score .9): IoU GT1 = 90/110 = .82, GT2 = 80/120 = .67
    # det2 [-2,8] (score .8): IoU GT1 = 80/120 = .67, GT2 = 50/150 = .33
    gts = {1: np.array([_box(0, 0, 10, 10), _box(3, 0, 13, 10)])}
    dets = {1: np.array([_box(1, 0, 11, 10) + [0.9], _box(-2, 0, 8, 10) + [0.8]])}
    # JI: det1-GT2 and det2-GT1 match both -> 2/(2+2-2) = 1
    assert jaccard_index(dets, gts) == pytest.approx(1.0)
    # MR: det1 takes its best GT1, det2 has nothing left -> TP, FP; miss rate .5 throughout -> 50 %
    assert log_average_miss_rate(dets, gts) == pytest.approx(50.0)


def test_ji_ignore_regions_and_empty_images():
    boxes = np.array([_box(0, 0, 10, 10), _box(200, 200, 210, 210), _box(190, 190, 260, 260)])
    ignore = np.array([False, False, True])
    dets = {1: np.array([_box(0, 0, 10, 10) + [0.9], _box(220, 220, 250, 250) + [0.9]])}
    # the unmatched det and the unmatched GT both lie inside the ignore region: n = 2-1, m = 2-1, k = 1 -> 1
    assert jaccard_index(dets, {1: (boxes, ignore)}) == pytest.approx(1.0)
    # counted as ordinary boxes: k = 1, n = 2, m = 2 -> 1/3
    assert jaccard_index(dets, {1: (boxes[:2], ignore[:2])}) == pytest.approx(1 / 3)
    # images with nothing to count (m + n = 0) are left out of the mean, not scored 0: an empty image, and one
    # whose only GT is an ignore region holding the only detection
    only_ignored = (np.array([_box(0, 0, 50, 50)]), np.array([True]))
    more = {**dets, 3: np.array([_box(10, 10, 20, 20) + [0.9]])}
    assert jaccard_index(more, {1: (boxes, ignore), 2: np.zeros((0, 4)), 3: only_ignored}) == pytest.approx(1.0)
    # an image with GTs but no detections counts, with 0: (1 + 0) / 2
    assert jaccard_index(dets, {1: (boxes, ignore), 4: np.array([_box(0, 0, 9, 9)])}) == pytest.approx(0.5)


def test_crowddet_ap_is_the_trapezoid_under_the_raw_curve():
    gts = {1: np.array([_box(0, 0, 10, 10), _box(40, 0, 50, 10)])}
    tp1, fp, tp2 = _box(0, 0, 10, 10) + [0.9], _box(100, 100, 110, 110) + [0.8], _box(40, 0, 50, 10) + [0.7]
    # (recall, precision) after each detection: (.5, 1), (.5, .5), (1, 2/3) -> .5 * (.5 + 2/3) / 2 = 7/24
    assert crowddet_ap({1: np.array([tp1, fp, tp2])}, gts) == pytest.approx(100 * 7 / 24)
    # no (0, 1) starting point: even perfect detections of 2 GTs give (.5, 1), (1, 1) -> .5 (N GTs: (N-1)/N)
    assert crowddet_ap({1: np.array([tp1, tp2])}, gts) == pytest.approx(50.0)
    assert crowddet_ap({}, gts) == 0.0


def _results(coco, extra=()):
    return [{'image_id': a['image_id'], 'category_id': 1, 'bbox': a['bbox'], 'score': 0.9}
            for a in coco['annotations'] if not a['iscrowd']] + list(extra)


def test_ap_with_pycocotools():
    coco = odgt_to_coco(LINES, image_sizes=SIZES)
    # perfect, plus a high-scoring detection inside img_a's 'mask' region, which COCOeval ignores
    on_mask = {'image_id': 1, 'category_id': 1, 'bbox': [110, 10, 20, 20], 'score': 0.99}
    assert crowdhuman_ap(coco, _results(coco, [on_mask])) == pytest.approx({'AP': 100.0, 'AP50': 100.0})
    # only img_a's person found: recall .5 at precision 1 -> 51 of COCO's 101 recall points -> 51/101
    half = [r for r in _results(coco) if r['image_id'] == 1]
    assert crowdhuman_ap(coco, half) == pytest.approx({'AP': 100 * 51 / 101, 'AP50': 100 * 51 / 101})
    assert crowdhuman_ap(coco, []) == {'AP': 0.0, 'AP50': 0.0}


def test_coco_helpers_feed_the_metrics():
    coco = odgt_to_coco(LINES, image_sizes=SIZES)
    gts, dets = coco_to_gts(coco), results_to_dets(_results(coco))
    assert gts[1][1].tolist() == [False, True, True]
    assert gts[2][0].tolist() == [[0, 5, 20, 25]]
    assert dets[1].tolist() == [[10, 20, 40, 60, 0.9]]
    assert log_average_miss_rate(dets, gts) == pytest.approx(1e-8)
    assert jaccard_index(dets, gts) == pytest.approx(1.0)
