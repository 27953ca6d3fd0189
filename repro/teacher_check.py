"""Verify a distillation run's teacher before it trains: its AP on the val split, measured, and refused when it is
far below what that teacher reaches. The failure this catches is the one FGD's and MMRazor's users report most: a
teacher whose weights silently did not load, so the student distils noise.

- Weights from the teacher's own run in this harness (the tiny profile's teachers): that run's AP, from its record;
  the weights carry its run key, so they are the weights that were measured.
- Any other weights (`teacher.checkpoint=PATH`, a zoo teacher): evaluated once, as an evaluation run of its own
  (`repro.train --evaluate-from`, keyed by the checkpoint, so every student of that teacher reuses it), then
  compared with the AP mmdet's model zoo gives those weights (a zoo teacher in the coco profile: the installed
  mmdet's metafile.yml files, by the weights' file name), else with the AP the same teacher config reached in its
  own run here, if there is one, else only with MIN_AP. `--trust-teacher` (or REPRO_TRUST_TEACHER=1) skips the refusal, not the measurement.

The measured AP goes into the distilled run's record as `teacher_ap`.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from urllib.parse import urlparse

from repro.cli import TRUST_TEACHER_ENV
from repro.errors import ReproError

MIN_AP = 1.0  # below it a detector finds almost nothing: random or unloaded weights
TOLERANCE = 3.0  # AP points a teacher's weights may fall short of its own run's AP (another val split, say)


def check_teacher(compiled, profile: str, data_root: str | None, wandb: str | None) -> float:
    """The teacher's measured AP; a ReproError if it is too low to distil from (unless trusted)."""
    from repro.store import read_record, status, teacher_dir
    from repro.train import train
    teacher = compiled.teacher
    own = read_record(teacher_dir(compiled)) if status(teacher_dir(compiled), teacher.run_key) == 'done' else None
    if compiled.teacher_trained_here:
        return own['metrics']['AP']
    overrides = list(compiled.cfg.teacher.get('overrides', []))
    record = train(teacher.config, overrides, profile, data_root, role='teacher', wandb=wandb, wait=True,
                   evaluate_from=compiled.teacher_checkpoint)
    measured = record['metrics'].get('AP', 0.0)
    floor, why = MIN_AP, f'below {MIN_AP} AP, which random or unloaded weights give'
    own_data = bool(compiled.cfg.get('own_dataset'))  # the zoo's APs are COCO's, not a dataset of one's own
    zoo = zoo_ap(Path(urlparse(compiled.teacher_checkpoint).path).name) if profile == 'coco' and not own_data \
        else None
    if zoo is not None:
        floor, why = zoo - TOLERANCE, f"more than {TOLERANCE:g} AP under the {zoo} AP mmdet's model zoo gives them"
    elif own and own['metrics'].get('AP', 0.0) - TOLERANCE > floor:
        floor = own['metrics']['AP'] - TOLERANCE
        why = f"more than {TOLERANCE:g} AP under its own run's {own['metrics']['AP']} AP"
    if measured < floor and not os.environ.get(TRUST_TEACHER_ENV):
        raise ReproError(f'{compiled.config.name}: its teacher {teacher.config.name} reaches {measured} AP with '
                         f'{compiled.teacher_checkpoint}, {why}; check the checkpoint, or pass --trust-teacher to '
                         'distil from it anyway')
    return measured


@functools.lru_cache(maxsize=None)
def zoo_ap(weights_name: str) -> float | None:
    """The COCO box AP mmdet's model zoo gives the weights of this file name (the installed mmdet's metafile.yml
    files), or None where the zoo does not list them."""
    import mmdet
    import yaml
    for meta in sorted((Path(mmdet.__file__).parent / '.mim' / 'configs').glob('*/metafile.yml')):
        text = meta.read_text()
        if weights_name not in text:  # parse only the metafile that names it: all of them take seconds
            continue
        data = yaml.safe_load(text)
        for model in (data.get('Models') if isinstance(data, dict) else None) or []:
            if Path(urlparse(model.get('Weights') or '').path).name != weights_name:
                continue
            for result in model.get('Results') or []:
                box_ap = (result.get('Metrics') or {}).get('box AP')
                if result.get('Dataset') == 'COCO' and box_ap is not None:
                    return float(box_ap)
    return None
