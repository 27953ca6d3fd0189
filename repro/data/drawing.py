"""What every synthetic scene draws with (repro/data/synthetic.py's shapes, repro/data/crowd_scene.py's crowds): the
palette, the split's seed component, the background, unlabelled distractors and clutter."""
from __future__ import annotations

import math

import cv2
import numpy as np

# BGR colours
PALETTE = np.array([(40, 40, 220), (40, 200, 40), (220, 60, 40), (30, 210, 230), (210, 40, 200),
                    (230, 230, 230), (20, 120, 240), (150, 90, 40)], dtype=np.float64)
SPLIT_IDS = {'train': 1, 'val': 2}


def draw_distractor(mask, rng, size: int) -> None:
    """Unlabelled shapes: irregular blobs, crescents and thick bars."""
    kind = rng.integers(3)
    r = float(np.exp(rng.uniform(np.log(6), np.log(0.3 * size))))
    centre = rng.uniform(0, size, 2)
    if kind == 0:
        angles = np.sort(rng.uniform(0, 2 * math.pi, 9))
        radii = r * rng.uniform(0.4, 1.0, 9)
        pts = np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1) + centre
        cv2.fillPoly(mask, [pts.round().astype(np.int32)], 255)
    elif kind == 1:
        c = tuple(centre.round().astype(int))
        cv2.circle(mask, c, max(int(r), 2), 255, -1)
        shift = (centre + rng.uniform(-0.6, 0.6, 2) * r).round().astype(int)
        cv2.circle(mask, tuple(shift), max(int(r * 0.9), 1), 0, -1)
    else:
        end = centre + r * 2 * np.array([math.cos(a := rng.uniform(0, math.pi)), math.sin(a)])
        cv2.line(mask, tuple(centre.round().astype(int)), tuple(end.round().astype(int)), 255,
                 int(rng.integers(2, 7)))


def background(rng, size: int) -> np.ndarray:
    """Low-frequency colour noise plus oriented stripes and pixel noise."""
    coarse = rng.uniform(30, 200, (4, 4, 3)).astype(np.float32)
    img = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    yy, xx = np.mgrid[0:size, 0:size]
    theta, period = rng.uniform(0, math.pi), rng.uniform(4, 24)
    stripes = np.sin((xx * math.cos(theta) + yy * math.sin(theta)) * 2 * math.pi / period)
    img += (rng.uniform(5, 35) * stripes)[..., None] + rng.normal(0, 8, (size, size, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def clutter(img, rng, size: int) -> None:
    """Thin strokes and dots drawn over everything, objects included."""
    for _ in range(int(rng.integers(3, 12))):
        p0 = tuple(int(v) for v in rng.integers(0, size, 2))
        colour = tuple(float(v) for v in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            p1 = tuple(int(v) for v in np.clip(np.array(p0) + rng.integers(-30, 30, 2), 0, size - 1))
            cv2.line(img, p0, p1, colour, 1)
        else:
            cv2.circle(img, p0, int(rng.integers(1, 4)), colour, -1)

