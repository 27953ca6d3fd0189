import json
import os

import numpy as np
from pycocotools.coco import COCO

from repro.data.synthetic import CLASSES, SyntheticSpec, draw_image, ensure_dataset, write_dataset
from conftest import folder_digest

SMALL = SyntheticSpec(seed=3, num_train=24, num_val=8, image_size=160)


def test_generation_is_deterministic(tmp_path):
    write_dataset(SMALL, tmp_path / 'a')
    write_dataset(SMALL, tmp_path / 'b')
    assert folder_digest(tmp_path / 'a') == folder_digest(tmp_path / 'b')


def test_seed_and_index_change_the_images():
    a, _ = draw_image(SMALL, 'train', 0)
    b, _ = draw_image(SyntheticSpec(seed=4, num_train=24, num_val=8, image_size=160), 'train', 0)
    c, _ = draw_image(SMALL, 'train', 1)
    d, _ = draw_image(SMALL, 'val', 0)
    assert not np.array_equal(a, b) and not np.array_equal(a, c) and not np.array_equal(a, d)


def test_images_do_not_depend_on_generation_order():
    later, later_objects = draw_image(SMALL, 'train', 7)
    for i in range(7):
        draw_image(SMALL, 'train', i)
    again, again_objects = draw_image(SMALL, 'train', 7)
    assert np.array_equal(later, again) and later_objects == again_objects


def test_pycocotools_loads_both_splits(tmp_path):
    root = ensure_dataset(SMALL, tmp_path)
    for split, count in (('train', 24), ('val', 8)):
        coco = COCO(str(root / 'annotations' / f'instances_{split}.json'))
        assert len(coco.getImgIds()) == count
        assert [c['name'] for c in coco.loadCats(coco.getCatIds())] == list(CLASSES)
        for ann in coco.loadAnns(coco.getAnnIds()):
            img = coco.loadImgs(ann['image_id'])[0]
            x, y, w, h = ann['bbox']
            assert w > 0 and h > 0 and x >= 0 and y >= 0
            assert x + w <= img['width'] and y + h <= img['height']
            assert 0 < ann['area'] <= w * h and ann['iscrowd'] == 0
            assert (root / split / img['file_name']).is_file()


def test_cache_is_reused(tmp_path):
    root = ensure_dataset(SMALL, tmp_path)
    stamp = (root / 'COMPLETE').stat().st_mtime_ns
    assert ensure_dataset(SMALL, tmp_path) == root
    assert (root / 'COMPLETE').stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [root.name]  # no temporary folder left behind


def test_cache_follows_the_umask(tmp_path):
    """A cache shared by a group: folders 0755 and files 0644 under the usual umask 022, not mkdtemp's 0700."""
    old = os.umask(0o022)
    try:
        root = ensure_dataset(SMALL, tmp_path)
    finally:
        os.umask(old)
    assert root.stat().st_mode & 0o777 == 0o755
    assert (root / 'annotations' / 'instances_val.json').stat().st_mode & 0o777 == 0o644


def test_dataset_is_hard_enough():
    """Objects span COCO's small, medium and large ranges, several to an image, in every class."""
    spec = SyntheticSpec()
    areas, labels, per_image = [], [], []
    for i in range(150):
        _, objects = draw_image(spec, 'train', i)
        per_image.append(len(objects))
        for label, _, area in objects:
            labels.append(label)
            areas.append(area)
    areas = np.array(areas)
    small, large = (areas < 32 ** 2).mean(), (areas > 96 ** 2).mean()
    assert 0.2 < small < 0.6 and large > 0.05 and 1 - small - large > 0.2
    assert set(labels) == set(range(len(CLASSES)))
    assert np.mean(per_image) > 2.5


def test_spec_key_changes_with_every_field():
    keys = {SyntheticSpec().key(), SyntheticSpec(seed=1).key(), SyntheticSpec(num_train=10).key(),
            SyntheticSpec(image_size=128).key(), SyntheticSpec(distractors=0).key()}
    assert len(keys) == 5
    json.dumps(SyntheticSpec().key())
