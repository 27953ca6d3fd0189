"""Synthetic crowded scenes, the tiny profile's stand-in for CrowdHuman: `SyntheticSpec(scene='crowd')`.

One class, 'person'. People are figures (head, torso, arms, legs) in random clothing colours, standing in groups
in which each neighbour's full-body box overlaps the previous one's with an IoU drawn from NEIGHBOUR_IOU, so
that NMS and one-to-one matching are as hard as CrowdHuman makes them. Nearer people (lower feet) occlude farther
ones. Boxes are amodal like CrowdHuman's full-body boxes: the whole figure, hidden parts included, clipped to the
image; a person with less than MIN_VISIBLE of its figure visible is not annotated. Far-off crowds of small
figures, packed too densely to label, are ignore regions (iscrowd=1), like CrowdHuman's 'mask' boxes. The
background, the unlabelled distractor shapes and the clutter strokes are the shapes scene's.

An image is a pure function of (spec, split, index), as in repro/data/synthetic.py.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from repro.data.drawing import PALETTE, SPLIT_IDS, background, clutter, draw_distractor

FORMAT_VERSION = 1  # bump when the drawing changes, so stale crowd caches are not reused
CLASSES = ('person',)
NEIGHBOUR_IOU = (0.3, 0.7)  # planned IoU between the boxes of two neighbours in a group
GROUP_SIZES, GROUP_PROBS = (1, 2, 3, 4, 5), (0.1, 0.25, 0.25, 0.2, 0.2)
HEIGHT = (0.14, 0.6)  # person height as a fraction of the image side, log-uniform: 27-115 px at 192 px
ASPECT = (0.36, 0.48)  # box width / height of a standing figure, arms included
MIN_VISIBLE = 0.2  # lower than the shapes' 0.3: CrowdHuman labels heavily occluded people too
IGNORE_REGIONS, IGNORE_PROBS = (0, 1, 2), (0.4, 0.45, 0.15)
SKIN = np.array([(60, 90, 150), (90, 130, 190), (120, 160, 220), (150, 190, 235), (45, 65, 100)], np.float64)


def draw_crowd(spec, split: str, index: int):
    """Draw one crowded image.

    Returns:
        (HxWx3 uint8 BGR image, [(0, [x, y, w, h], w·h), ...] annotated people, [[x, y, w, h], ...] ignore
        regions), boxes in integer pixels.
    """
    rng = np.random.default_rng([spec.seed, SPLIT_IDS[split], index])
    size = spec.image_size
    img = background(rng, size)
    ignores = [box for _ in range(rng.choice(IGNORE_REGIONS, p=IGNORE_PROBS))
               if (box := _far_crowd(img, rng, size)) is not None]
    for _ in range(int(rng.integers(0, spec.distractors + 1))):
        mask = np.zeros((size, size), np.uint8)
        draw_distractor(mask, rng, size)
        _paint(img, mask > 0, PALETTE[rng.integers(len(PALETTE))], rng)
    people = _plan_people(rng, size, int(rng.integers(max(1, spec.max_objects // 2), spec.max_objects + 1)))
    owner = np.full((size, size), -1, np.int32)  # which person each pixel shows, -1 for none
    extents = []
    for box in sorted(people, key=lambda b: b[1] + b[3]):  # farther (feet higher up) first: nearer ones occlude
        (oy, ox), union = _draw_figure(img, rng, box)
        ys, xs = np.nonzero(union)
        owner[oy:oy + union.shape[0], ox:ox + union.shape[1]][union] = len(extents)
        extents.append(None if not len(xs) else (ox + xs.min(), oy + ys.min(), ox + xs.max() + 1, oy + ys.max() + 1,
                                                  len(xs)))
    clutter(img, rng, size)
    objects = []
    for i, extent in enumerate(extents):
        if extent is None:
            continue
        x0, y0, x1, y1, full = extent
        visible = int((owner == i).sum())
        if visible < MIN_VISIBLE * full or visible < 12:
            continue
        w, h = int(x1 - x0), int(y1 - y0)
        objects.append((0, [int(x0), int(y0), w, h], w * h))
    return img, objects, ignores


def _plan_people(rng, size: int, count: int) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, y0, w, h) of `count` people in groups; each neighbour steps sideways by the offset that gives two
    equal boxes the planned IoU t: (w − dx) / (w + dx) = t, so dx = w·(1 − t) / (1 + t)."""
    boxes = []
    while len(boxes) < count:
        members = min(int(rng.choice(GROUP_SIZES, p=GROUP_PROBS)), count - len(boxes))
        h = float(np.exp(rng.uniform(*np.log(np.array(HEIGHT) * size))))
        w = h * rng.uniform(*ASPECT)
        foot = rng.uniform(0.95 * h, size + 0.2 * h)  # the head is in the image; the feet may be cut off
        span = w * (1 + 0.45 * (members - 1))
        x = rng.uniform(-0.15 * w, max(size - span + 0.15 * w, 0.0))
        step_sign = 1.0
        if rng.random() < 0.5:  # the group grows leftwards from its right end
            x, step_sign = x + span - w, -1.0
        for k in range(members):
            hk = h * rng.uniform(0.9, 1.1)
            wk = hk * rng.uniform(*ASPECT)
            if k:
                t = rng.uniform(*NEIGHBOUR_IOU)
                x += step_sign * boxes[-1][2] * (1 - t) / (1 + t)
            fk = foot + rng.uniform(-0.05, 0.05) * h
            boxes.append((x, fk - hk, wk, hk))
    return boxes


def _draw_figure(img, rng, box):
    """Paint one figure filling box (x0, y0, w, h), in a window of the image around it.

    Returns:
        ((top, left) of the window, its (h, w) bool mask of the figure's pixels).
    """
    x0, y0, w, h = box
    cx = x0 + w / 2 + rng.uniform(-0.04, 0.04) * w
    size, margin = img.shape[0], 3 + 0.1 * h  # arms and feet may reach a little past the planned box
    top, left = int(np.clip(math.floor(y0 - margin), 0, size)), int(np.clip(math.floor(x0 - margin), 0, size))
    bottom = int(np.clip(math.ceil(y0 + h + margin), 0, size))
    right = int(np.clip(math.ceil(x0 + w + margin), 0, size))
    if bottom <= top or right <= left:  # wholly outside the image
        return (top, left), np.zeros((max(bottom - top, 0), max(right - left, 0)), bool)
    window = img[top:bottom, left:right]  # a view: painting it paints the image

    def pt(x, y):
        return int(round(x - left)), int(round(y - top))

    def thick(frac):
        return max(1, int(round(frac * w)))

    head, body, legs = (np.zeros(window.shape[:2], np.uint8) for _ in range(3))
    cv2.ellipse(head, pt(cx, y0 + 0.075 * h), (max(1, int(0.065 * h)), max(1, int(0.075 * h))), 0, 0, 360, 255, -1)
    shoulder, hip = y0 + 0.17 * h, y0 + 0.52 * h
    torso = np.array([(cx - 0.3 * w, shoulder), (cx + 0.3 * w, shoulder), (cx + 0.22 * w, hip),
                      (cx - 0.22 * w, hip)]) - (left, top)
    cv2.fillPoly(body, [torso.round().astype(np.int32)], 255)
    for side in (-1, 1):
        hand = (cx + side * rng.uniform(0.38, 0.44) * w, y0 + rng.uniform(0.42, 0.55) * h)
        cv2.line(body, pt(cx + side * 0.26 * w, shoulder + 0.02 * h), pt(*hand), 255, thick(0.12))
        foot = (cx + side * rng.uniform(0.12, 0.3) * w, y0 + 0.97 * h)
        cv2.line(legs, pt(cx + side * 0.11 * w, hip), pt(*foot), 255, thick(0.18))
    clothes = rng.uniform(20, 235, 3)
    trousers = rng.uniform(15, 160, 3)
    union = (head | body | legs) > 0
    for mask, colour in ((legs, trousers), (body, clothes), (head, SKIN[rng.integers(len(SKIN))])):
        _paint(window, mask > 0, colour, rng)
    outline = union & ~cv2.erode(union.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    window[outline] = (window[outline] * 0.45).astype(np.uint8)  # a darker rim separates overlapping people
    return (top, left), union


def _far_crowd(img, rng, size: int) -> list[int] | None:
    """Paint a band of small figures packed too densely to label; returns its box [x, y, w, h] (or None)."""
    bw, bh = rng.uniform(0.25, 0.5) * size, rng.uniform(0.08, 0.16) * size
    bx, by = rng.uniform(0, size - bw), rng.uniform(0, 0.5 * size)
    union = np.zeros((size, size), bool)
    for row in range(2):  # a back row, half hidden by a front row
        x = bx
        while x < bx + bw:
            fh = bh * rng.uniform(0.6, 0.85)
            fw = fh * rng.uniform(*ASPECT)
            top = by + row * 0.3 * bh + rng.uniform(0, 0.1) * bh
            (oy, ox), mask = _draw_figure(img, rng, (x, top, fw, fh))
            union[oy:oy + mask.shape[0], ox:ox + mask.shape[1]] |= mask
            x += fw * rng.uniform(0.25, 0.5)
    ys, xs = np.nonzero(union)
    if not len(xs):
        return None
    return [int(xs.min()), int(ys.min()), int(xs.max() + 1 - xs.min()), int(ys.max() + 1 - ys.min())]


def _paint(img, on: np.ndarray, colour: np.ndarray, rng) -> None:
    if on.any():
        img[on] = np.clip(colour * rng.uniform(0.8, 1.1) + rng.normal(0, 10, (int(on.sum()), 3)), 0, 255)

