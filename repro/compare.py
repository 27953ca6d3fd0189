"""Compare KD methods on a COCO-format dataset of your own: `python -m repro.compare --train ANN.json --train-images
DIR --val ANN.json --val-images DIR --student CONFIG --methods crosskd,pgd,ld,pkd [--teacher CKPT]`.

The dataset is validated first, in one pass (repro.data.validate_coco: every problem one line). Then the comparison
is a table like a paper's, built in memory and run exactly as `python -m repro.run` runs one (same plan, run keys,
cache of finished runs, resume, launchers, seeds and W&B logging): a teacher row (trained here unless --teacher
gives its weights), the student baseline, and one row per method, each method's config being
configs/methods/<method>_<family>.py for the student's detector family (configs/detectors/gfl_r50.py: gfl), its
student set to --student. The report (reports/<profile>/compare_<name>.{md,html,tex,csv}) gives each row's mean ±
std over the seeds and, per method, the claim "METHOD beats the student" with its verdict from paired seeds.
Rerunning the same command trains nothing more and writes the report again; `python -m repro.report compare:NAME`
renders it again from the store without the dataset's arguments.

`key=value` overrides apply to the student and distilled rows; `--teacher-override key=value` to the teacher.
"""
from __future__ import annotations

import argparse
import re
import sys

from repro.cli import ArgumentParser, run_cli, set_env_flags
from repro.errors import ReproError
from repro.profiles import PROFILES
from repro.run import add_launch_args, run_tables
from repro.tables.compare import build_spec, config_path, dataset_folder, default_name, write_spec


def build_parser() -> argparse.ArgumentParser:
    from repro.data.validate_coco import add_dataset_args
    parser = ArgumentParser(prog='python -m repro.compare', description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    add_dataset_args(parser)
    parser.add_argument('--student', required=True, metavar='CONFIG',
                        help='the student detector, e.g. configs/detectors/gfl_r50.py (its family picks the methods\' '
                             'configs)')
    parser.add_argument('--methods', required=True, metavar='M1,M2',
                        help='comma-separated: crosskd, pgd, ld, pkd, fgd, defeat, ... (configs/methods/<m>_<family>.py)')
    parser.add_argument('--teacher', metavar='CKPT', help="the teacher's weights (a path or URL) for the teacher "
                        "config the methods name; default: train that teacher here first")
    parser.add_argument('--teacher-config', metavar='CONFIG', help="distil from this teacher config instead of "
                        "each method's own (teacher.config=...)")
    parser.add_argument('--teacher-override', action='append', default=[], metavar='KEY=VALUE',
                        help="an override of the teacher's config; repeatable")
    parser.add_argument('--name', help='the comparison\'s name, in its report\'s file names (default: the dataset '
                        'folder\'s name)')
    parser.add_argument('--profile', choices=PROFILES, help="coco (default): the papers' models and schedules; "
                        'tiny: narrow CPU-sized models on small images')
    parser.add_argument('--dry-run', action='store_true', help='validate, print the plan and exit')
    add_launch_args(parser)
    parser.add_argument('overrides', nargs='*', metavar='key=value',
                        help='overrides of the student and distilled rows (keys must exist)')
    return parser


def main(argv: list[str] | None = None) -> None:
    from repro.data.own_dataset import write_description
    from repro.data.validate_coco import splits, validate
    parser = build_parser()
    args = parser.parse_intermixed_args(argv)
    set_env_flags(args)
    train, val = splits(args)
    summary = validate(train, val)  # before anything else: the data is what a new user gets wrong first
    for note in summary.notes:
        print(f'note: {note}', file=sys.stderr)
    print(f'dataset: {summary.line()}', file=sys.stderr)
    student = config_path(args.student, '--student')
    methods = [m.strip().lower() for m in args.methods.split(',') if m.strip()]
    if not methods or len(set(methods)) < len(methods):
        raise ReproError(f'--methods {args.methods!r}: name each method once, comma-separated, e.g. crosskd,pgd')
    name = args.name or default_name(train)
    if not re.fullmatch(r'[a-z0-9][a-z0-9_]*', name):
        raise ReproError(f"--name {name!r}: use lower-case letters, digits and '_' (it names the report's files)")
    from repro.data.own_dataset import fingerprint
    folder = dataset_folder(name, fingerprint(train.ann_file, val.ann_file))
    args.data_root = str(write_description(folder, train, val, summary.classes))
    if args.profile is None:
        args.profile = 'coco'
        print("note: profile coco (the papers' models and schedules; --profile tiny for narrow CPU-sized models)",
              file=sys.stderr)
    args.tolerance = 0.3  # no published numbers to hold rows against; the report asks for it all the same
    spec = build_spec(name, student, methods, args, folder)
    write_spec(spec)
    run_tables([spec], args)


if __name__ == '__main__':
    run_cli(main)
