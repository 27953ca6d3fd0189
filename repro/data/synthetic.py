"""Deterministic synthetic COCO-format detection data: the embedded default dataset.

Objects are filled shapes whose class is given by the shape, not the colour: colours are drawn from palettes
that overlap between classes. Sizes fall into COCO's small (< 32²), medium and large (> 96²) area ranges,
objects occlude one another, and unlabelled distractor shapes, clutter strokes and textured backgrounds
make the task hard enough that model capacity and schedule length show up in AP.

Every image is drawn from its own generator seeded by (seed, split, index), so a dataset is a pure function
of its parameters. It is written once to a cache folder, atomically, and reused.

`SyntheticSpec(scene='crowd')` gives the crowded one-class variant instead (repro/data/crowd_scene.py).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

import cv2
import numpy as np

from repro.data.drawing import PALETTE, SPLIT_IDS, background, clutter, draw_distractor
from repro.errors import ReproError
from repro.profiles import cache_root

FORMAT_VERSION = 1  # bump when the drawing changes, so stale caches are not reused
CLASSES = ('disk', 'square', 'triangle', 'cross', 'ring', 'star')
# each class draws from 4 of the palette's colours, and every colour serves 3 or more classes
CLASS_COLOURS = ((0, 1, 2, 5), (1, 3, 4, 6), (2, 4, 5, 7), (0, 3, 6, 7), (1, 2, 5, 6), (0, 3, 4, 7))
SCENES = ('shapes', 'crowd')  # 'crowd': repro.data.crowd_scene, the tiny profile's stand-in for CrowdHuman
MIN_VISIBLE = 0.3  # an object with less of its area visible is erased, not annotated


@dataclass(frozen=True)
class SyntheticSpec:
    """Parameters that fully determine a synthetic dataset."""
    seed: int = 0
    num_train: int = 400
    num_val: int = 100
    image_size: int = 192
    max_objects: int = 7  # 'crowd': the most people in an image
    distractors: int = 3
    scene: str = 'shapes'  # one of SCENES

    def __post_init__(self):
        if self.scene not in SCENES:
            raise ReproError(f"synthetic scene {self.scene!r} is unknown: choose one of {', '.join(SCENES)}")

    def params(self) -> dict:
        """The fields, without `scene` when it is the default: the shapes dataset and its key predate it."""
        fields = asdict(self)
        if fields['scene'] == 'shapes':
            del fields['scene']
        return fields

    def key(self) -> str:
        version = {'format': FORMAT_VERSION}
        if self.scene == 'crowd':
            from repro.data.crowd_scene import FORMAT_VERSION as crowd_version
            version['crowd_format'] = crowd_version
        blob = json.dumps({**self.params(), **version}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]

    @property
    def classes(self) -> tuple[str, ...]:
        if self.scene == 'crowd':
            from repro.data.crowd_scene import CLASSES as people
            return people
        return CLASSES


def default_cache_root() -> Path:
    return cache_root() / 'data'


def ensure_dataset(spec: SyntheticSpec, cache_root: Path | None = None) -> Path:
    """Return the dataset folder for `spec`, generating it first if it is not cached yet.

    Layout: `annotations/instances_{train,val}.json` and images under `{train,val}/`.
    """
    root = Path(cache_root or default_cache_root()) / f'synthetic-{spec.key()}'
    if (root / 'COMPLETE').exists():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = root.parent / f'.{root.name}-{secrets.token_hex(4)}'
    tmp.mkdir()  # mode 0777 less the umask; mkdtemp's 0700 would hide a shared cache from the rest of a group
    try:
        write_dataset(spec, tmp)
        (tmp / 'COMPLETE').write_text(json.dumps(spec.params()))
        try:
            os.rename(tmp, root)
        except OSError:  # another process finished first; its copy is identical
            if not (root / 'COMPLETE').exists():
                raise
    except OSError as err:
        raise ReproError(f'cannot write the synthetic dataset under {root.parent}: {err}; '
                         'free some space or set REPRO_CACHE to another folder') from err
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def write_dataset(spec: SyntheticSpec, out: Path) -> None:
    (out / 'annotations').mkdir(parents=True, exist_ok=True)
    kind = 'person' if spec.scene == 'crowd' else 'shape'
    categories = [{'id': i + 1, 'name': n, 'supercategory': kind} for i, n in enumerate(spec.classes)]
    for split, count in (('train', spec.num_train), ('val', spec.num_val)):
        (out / split).mkdir(exist_ok=True)
        images, annotations = [], []
        for index in range(count):
            img, objects, ignores = draw_scene(spec, split, index)
            name = f'{index:06d}.png'
            cv2.imwrite(str(out / split / name), img)
            image_id = index + 1
            images.append({'id': image_id, 'file_name': name, 'height': img.shape[0], 'width': img.shape[1]})
            for label, (x, y, w, h), area in objects:
                annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'category_id': label + 1,
                                    'bbox': [x, y, w, h], 'area': area, 'iscrowd': 0})
            for x, y, w, h in ignores:  # regions whose detections count neither way (CrowdHuman's 'mask')
                annotations.append({'id': len(annotations) + 1, 'image_id': image_id, 'category_id': 1,
                                    'bbox': [x, y, w, h], 'area': w * h, 'iscrowd': 1})
        coco = {'info': {'description': f'repro synthetic {spec.scene} {spec.params()}'}, 'images': images,
                'annotations': annotations, 'categories': categories}
        (out / 'annotations' / f'instances_{split}.json').write_text(json.dumps(coco))


def draw_scene(spec: SyntheticSpec, split: str, index: int):
    """One image of either scene: (image, objects as `draw_image` gives them, [[x, y, w, h] ignore region, ...])."""
    if spec.scene == 'crowd':
        from repro.data.crowd_scene import draw_crowd
        return draw_crowd(spec, split, index)
    return (*draw_image(spec, split, index), [])


def draw_image(spec: SyntheticSpec, split: str, index: int):
    """Draw one image. Returns (HxWx3 uint8 BGR image, [(label, [x, y, w, h], visible_area), ...])."""
    rng = np.random.default_rng([spec.seed, SPLIT_IDS[split], index])
    size = spec.image_size
    img = background(rng, size)
    owner = np.full((size, size), -1, dtype=np.int32)  # which object each pixel shows, -1 for none
    labels, full_areas = [], []
    n_obj = int(rng.integers(1, spec.max_objects + 1))
    n_dis = int(rng.integers(0, spec.distractors + 1))
    kinds = ['obj'] * n_obj + ['dis'] * n_dis
    rng.shuffle(kinds)  # distractors are drawn in between, so they occlude objects too
    for kind in kinds:
        mask = np.zeros((size, size), dtype=np.uint8)
        if kind == 'obj':
            label = int(rng.integers(len(CLASSES)))
            colour = PALETTE[rng.choice(CLASS_COLOURS[label])]
            _draw_shape(mask, rng, CLASSES[label], _object_size(rng, size), size)
        else:
            colour = PALETTE[rng.integers(len(PALETTE))]
            draw_distractor(mask, rng, size)
        on = mask > 0
        if not on.any():
            continue
        shade = np.clip(colour * rng.uniform(0.7, 1.15) + rng.normal(0, 12, (on.sum(), 3)), 0, 255)
        img[on] = shade
        if kind == 'obj':
            owner[on] = len(labels)
            labels.append(label)
            full_areas.append(int(on.sum()))
        else:
            owner[on] = -1
    clutter(img, rng, size)
    objects = []
    for i, label in enumerate(labels):
        ys, xs = np.nonzero(owner == i)
        if len(xs) < MIN_VISIBLE * full_areas[i] or len(xs) < 12:
            continue
        x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
        objects.append((label, [int(x0), int(y0), int(x1 - x0), int(y1 - y0)], int(len(xs))))
    return img, objects


def _object_size(rng, size: int) -> float:
    """Extent in pixels, bucketed so that COCO's small, medium and large ranges are all populated."""
    bucket = rng.choice(3, p=(0.35, 0.35, 0.3))
    lo, hi = ((9, 30), (36, 90), (100, 0.8 * size))[bucket]
    return float(np.exp(rng.uniform(np.log(lo), np.log(max(hi, lo + 1)))))


def _rotated(points: np.ndarray, angle: float, centre) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return (points @ np.array([[c, s], [-s, c]]) + centre).round().astype(np.int32)


def _draw_shape(mask, rng, name: str, extent: float, size: int) -> None:
    r = extent / 2
    aspect = rng.uniform(0.75, 1.33)
    centre = rng.uniform(r * 0.5, size - r * 0.5, 2)
    angle = rng.uniform(0, 2 * math.pi)
    rx, ry = r * math.sqrt(aspect), r / math.sqrt(aspect)
    if name in ('disk', 'ring'):
        axes = (max(int(rx), 1), max(int(ry), 1))
        cv2.ellipse(mask, tuple(centre.round().astype(int)), axes, math.degrees(angle), 0, 360, 255, -1)
        if name == 'ring':
            inner = (max(int(rx * 0.55), 1), max(int(ry * 0.55), 1))
            cv2.ellipse(mask, tuple(centre.round().astype(int)), inner, math.degrees(angle), 0, 360, 0, -1)
        return
    if name == 'square':
        pts = np.array([(-1, -1), (1, -1), (1, 1), (-1, 1)]) * 0.75
    elif name == 'triangle':
        pts = np.array([(math.cos(a), math.sin(a)) for a in np.linspace(-math.pi / 2, 1.5 * math.pi, 4)[:3]])
    elif name == 'cross':
        t = 0.33
        pts = np.array([(-t, -1), (t, -1), (t, -t), (1, -t), (1, t), (t, t), (t, 1), (-t, 1), (-t, t), (-1, t),
                        (-1, -t), (-t, -t)])
    else:  # star
        radii = np.tile([1.0, 0.45], 5)
        angles = np.linspace(-math.pi / 2, 1.5 * math.pi, 11)[:10]
        pts = np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1)
    cv2.fillPoly(mask, [_rotated(pts * (rx, ry), angle, centre)], 255)


