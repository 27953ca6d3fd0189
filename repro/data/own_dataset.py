"""A COCO-format dataset of one's own, as runs see it: a description file (DESCRIPTION) in a folder that is passed
as the runs' data root (`--data-root`), so that every launcher's processes (`repro.train` locally, under torchrun
or Slurm) get it the way they get COCO's root.

The description names the validated split files (absolute paths), the class names (the categories in file order)
and a fingerprint of the two annotation files' bytes. repro.plan.compile points a config's loaders and evaluators at
the files and sets num_classes, in either profile (tiny: its narrow models and small images; coco: the papers'
models and schedules), and keys runs by the fingerprint rather than the paths, so that the same data elsewhere
gives the same run keys and changed annotations give new ones. `python -m repro.compare` writes it.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from repro.errors import ReproError
from repro.runs.atomic import atomic_write_json

DESCRIPTION = 'repro_dataset.json'
FORMAT = 'repro-own-coco-dataset'
VERSION = 1


def fingerprint(*ann_files: Path) -> str:
    digest = hashlib.sha256()
    for path in ann_files:
        digest.update(Path(path).read_bytes() + b'\0')
    return digest.hexdigest()[:16]


def write_description(folder: Path, train, val, classes: tuple[str, ...]) -> Path:
    """Describe the splits (repro.data.validate_coco.Split, validated) in folder/DESCRIPTION; returns the folder."""
    data = {'format': FORMAT, 'version': VERSION, 'classes': list(classes),
            'fingerprint': fingerprint(train.ann_file, val.ann_file),
            **{split.name: {'ann_file': str(split.ann_file), 'images': str(split.images)} for split in (train, val)}}
    atomic_write_json(Path(folder) / DESCRIPTION, data)
    return Path(folder)


def read_description(data_root: str | Path | None) -> dict | None:
    """The description in a data root, or None where the root holds none (COCO's, CrowdHuman's, or no root)."""
    if not data_root:
        return None
    path = Path(data_root) / DESCRIPTION
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ReproError(f'{path}: unreadable dataset description ({err}); run python -m repro.compare again to '
                         'write it') from err
    if not isinstance(data, dict) or data.get('format') != FORMAT or data.get('version') != VERSION:
        raise ReproError(f'{path}: not a version-{VERSION} dataset description of this harness; run python -m '
                         'repro.compare again to write it')
    return {**data, 'root': str(Path(data_root))}
