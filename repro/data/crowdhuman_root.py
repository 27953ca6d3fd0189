"""Prepare a CrowdHuman root for the coco profile: `python -m repro.data.crowdhuman_root ROOT`.

Reads ROOT/annotation_{train,val}.odgt (or ROOT/annotations/annotation_{train,val}.odgt), as downloaded from
https://www.crowdhuman.org/, and the image headers under ROOT/Images/ for the sizes; writes the COCO-format
files that configs/datasets/crowdhuman.py reads (full-body boxes clipped to the image, 'mask' and extra.ignore
boxes as iscrowd=1 ignore regions: repro.data.crowdhuman.odgt_to_coco).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from repro.cli import run_cli
from repro.errors import ReproError
from repro.profiles import DATASETS

TRAIN_JSON, VAL_JSON, IMAGES = DATASETS['crowdhuman']['layout']


def convert_root(root: str | Path) -> list[Path]:
    """Write ROOT's train and val annotations; returns the files written."""
    from repro.data.crowdhuman import odgt_to_coco
    from repro.runs.atomic import atomic_write_json
    root = Path(root)
    if not (root / IMAGES).is_dir():
        raise ReproError(f'no {IMAGES}/ folder in {root}: unzip CrowdHuman_train01-03.zip and CrowdHuman_val.zip '
                         'from https://www.crowdhuman.org/ there')
    written = []
    for split, target in (('train', TRAIN_JSON), ('val', VAL_JSON)):
        name = f'annotation_{split}.odgt'
        odgt = next((p for p in (root / name, root / 'annotations' / name) if p.is_file()), None)
        if odgt is None:
            raise ReproError(f'no {name} in {root} or {root / "annotations"}: download it from '
                             'https://www.crowdhuman.org/')
        coco = odgt_to_coco(odgt, image_dir=root / IMAGES)
        atomic_write_json(root / target, coco)
        ignored = sum(a['iscrowd'] for a in coco['annotations'])
        print(f'{root / target}: {len(coco["images"])} images, {len(coco["annotations"]) - ignored} people, '
              f'{ignored} ignore regions')
        written.append(root / target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m repro.data.crowdhuman_root', description=__doc__.splitlines()[0])
    parser.add_argument('root', help='the CrowdHuman folder (Images/ and the two .odgt files)')
    convert_root(parser.parse_args(argv).root)


if __name__ == '__main__':
    run_cli(main)
