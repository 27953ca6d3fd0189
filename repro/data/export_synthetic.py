"""Export the embedded synthetic dataset as a plain COCO folder: `python -m repro.data.export_synthetic OUT`.

OUT gets annotations/instances_train.json, annotations/instances_val.json and the images under train/ and val/,
the layout of any COCO-format dataset, for trying `python -m repro.compare` as one would on data of one's own:

    python -m repro.compare --train OUT/annotations/instances_train.json --train-images OUT/train \\
        --val OUT/annotations/instances_val.json --val-images OUT/val --student configs/detectors/gfl_r50.py ...
"""
from __future__ import annotations

from pathlib import Path

from repro.errors import ReproError


def export(out: str | Path, num_train: int = 400, num_val: int = 100, image_size: int = 192, seed: int = 0,
           scene: str = 'shapes') -> Path:
    """Draw the synthetic dataset (repro.data.synthetic) into `out`, which must be empty or not exist yet."""
    from repro.data.synthetic import SyntheticSpec, write_dataset
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ReproError(f'{out}: exists and is not an empty folder; name a new folder to export into')
    for name, value in (('--num-train', num_train), ('--num-val', num_val), ('--image-size', image_size)):
        if value < 1:
            raise ReproError(f'{name} is {value}: give a positive number')
    spec = SyntheticSpec(seed=seed, num_train=num_train, num_val=num_val, image_size=image_size, scene=scene)
    out.mkdir(parents=True, exist_ok=True)
    write_dataset(spec, out)
    return out


def main(argv: list[str] | None = None) -> None:
    from repro.cli import ArgumentParser
    parser = ArgumentParser(prog='python -m repro.data.export_synthetic', description=__doc__.splitlines()[0])
    parser.add_argument('out', help='a new (or empty) folder')
    parser.add_argument('--num-train', type=int, default=400)
    parser.add_argument('--num-val', type=int, default=100)
    parser.add_argument('--image-size', type=int, default=192)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--scene', choices=('shapes', 'crowd'), default='shapes')
    args = parser.parse_args(argv)
    out = export(args.out, args.num_train, args.num_val, args.image_size, args.seed, args.scene)
    print(f'wrote {out}: annotations/instances_{{train,val}}.json, train/ ({args.num_train} images), '
          f'val/ ({args.num_val} images)')


if __name__ == '__main__':
    from repro.cli import run_cli
    run_cli(main)
