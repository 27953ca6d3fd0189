"""A handful of synthetic images at real sizes, in the layouts the coco profile reads: COCO 2017
(`annotations/instances_{train,val}2017.json`, `train2017/`, `val2017/`) and CrowdHuman (`Images/`,
`annotations/crowdhuman_{train,val}.json`). For `python -m repro.smoke`: a real-size run without the datasets.

The scenes are the synthetic dataset's (repro.data.synthetic), drawn square and resized to COCO-like sizes from
640x480 to 1333x800. COCO's 80 category names are written (mmdet's CocoDataset keeps only the categories it knows
by name); the shapes take the first six.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2

from repro.data.synthetic import SyntheticSpec, draw_scene

SIZES = ((1333, 800), (640, 480), (1024, 768), (800, 1200))  # (width, height), cycled over the images
DRAW_SIZE = 640  # the square drawing, resized to each image's size


def _coco_categories() -> list[dict]:
    from mmdet.datasets import CocoDataset
    return [{'id': i + 1, 'name': name, 'supercategory': 'object'}
            for i, name in enumerate(CocoDataset.METAINFO['classes'])]


def write_split(root: Path, images_dir: str, ann_file: str, split: str, count: int, spec: SyntheticSpec,
                categories: list[dict], entries: int | None = None) -> None:
    """`count` images, listed `entries` times in all (default once each: more entries repeat the same files, so
    that a long run needs no more drawing)."""
    (root / images_dir).mkdir(parents=True, exist_ok=True)
    (root / 'annotations').mkdir(parents=True, exist_ok=True)
    images, annotations = [], []
    for entry in range(entries or count):
        index = entry % count
        img, objects, ignores = draw_scene(spec, split, index)
        width, height = SIZES[index % len(SIZES)]
        sx, sy = width / img.shape[1], height / img.shape[0]
        name = f'{split}_{index:06d}.jpg'
        if entry < count:
            cv2.imwrite(str(root / images_dir / name), cv2.resize(img, (width, height)))
        images.append({'id': entry + 1, 'file_name': name, 'height': height, 'width': width})
        boxes = [(label + 1, box, 0) for label, box, _ in objects] + [(1, box, 1) for box in ignores]
        for category, (x, y, w, h), crowd in boxes:
            box = [round(x * sx, 1), round(y * sy, 1), round(w * sx, 1), round(h * sy, 1)]
            annotations.append({'id': len(annotations) + 1, 'image_id': entry + 1, 'category_id': category,
                                'bbox': box, 'area': round(box[2] * box[3], 1), 'iscrowd': crowd})
    coco = {'info': {'description': f'repro real-size smoke data, {split}'}, 'images': images,
            'annotations': annotations, 'categories': categories}
    (root / 'annotations' / ann_file).write_text(json.dumps(coco))


def write_coco_root(root: Path, num_train: int = 4, num_val: int = 2, train_entries: int | None = None) -> Path:
    """A COCO 2017-layout root of real-size synthetic images (the train images listed `train_entries` times in all,
    default once each); returns it."""
    spec = SyntheticSpec(image_size=DRAW_SIZE)
    categories = _coco_categories()
    for split, count, entries in (('train', num_train, train_entries), ('val', num_val, None)):
        write_split(root, f'{split}2017', f'instances_{split}2017.json', split, count, spec, categories, entries)
    return root


def write_crowdhuman_root(root: Path, num_train: int = 4, num_val: int = 2, train_entries: int | None = None) -> Path:
    """A CrowdHuman-layout root (one class, 'person', crowded, with ignore regions); returns it."""
    spec = SyntheticSpec(image_size=DRAW_SIZE, scene='crowd', max_objects=14)
    categories = [{'id': 1, 'name': 'person', 'supercategory': 'person'}]
    for split, count, entries in (('train', num_train, train_entries), ('val', num_val, None)):
        write_split(root, 'Images', f'crowdhuman_{split}.json', split, count, spec, categories, entries)
    return root
