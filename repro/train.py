"""Train and evaluate one run with mmengine's Runner: `python -m repro.train CONFIG [key=value ...]`.

The work dir gets mmengine's checkpoints and logs and, when the run finishes, `result.json` with the COCO
metrics and the run's provenance. A rerun resumes from the last checkpoint; a finished run is not retrained.
`--evaluate-from CHECKPOINT` evaluates given weights (a path or a URL, e.g. mmdet's zoo) instead of training.
"""
from __future__ import annotations

from repro.cli import ArgumentParser, add_wandb_flags, run_cli, set_env_flags
from repro.plan.validate import AMP, WANDB_MODES, check_named_folders
from repro.profiles import PROFILES
from repro.runs.lifecycle import train


def main(argv: list[str] | None = None) -> None:
    parser = ArgumentParser(prog='python -m repro.train', description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config, e.g. configs/detectors/gfl_r50.py')
    parser.add_argument('overrides', nargs='*', metavar='key=value', help='config overrides (keys must exist)')
    parser.add_argument('--profile', choices=PROFILES,
                        help='default: coco with --data-root or where COCO is found (data/coco), else tiny')
    parser.add_argument('--data-root', help='root of the coco profile\'s data: COCO (default: data/coco), or the '
                        'dataset the config names (CrowdHuman: data/crowdhuman)')
    parser.add_argument('--seed', type=int, default=0, help='0 .. 2**32 - 1 (default 0)')
    parser.add_argument('--work-dir', help='default: work_dirs/<profile>/<config>-<run key>')
    parser.add_argument('--wandb', choices=WANDB_MODES,
                        help='W&B logging (default: offline, or $REPRO_WANDB)')
    parser.add_argument('--row', action='append', default=[], help='table row this run serves (repro.run sets it)')
    parser.add_argument('--role', choices=('teacher', 'student', 'distilled'), help='W&B job type')
    parser.add_argument('--launcher', choices=('none', 'pytorch'), default='none',
                        help="'pytorch' under torchrun: mmengine initialises torch.distributed from its env vars")
    parser.add_argument('--evaluate-from', metavar='CHECKPOINT',
                        help='evaluate these weights (a path or URL) instead of training')
    mmdet = parser.add_argument_group("mmdet's tools/train.py options")
    mmdet.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                       help='config overrides, as the positional key=value ones')
    mmdet.add_argument('--amp', action='store_true', help="mixed precision (mmengine's AmpOptimWrapper; needs a "
                       'CUDA GPU); part of the run key')
    mmdet.add_argument('--resume', nargs='?', const='auto', metavar='CHECKPOINT',
                       help="resume from the run's last checkpoint (what every run does anyway), or from this "
                            "checkpoint of the run's own work dir")
    parser.add_argument('--trust-teacher', action='store_true',
                        help='distil even from a teacher whose measured AP looks broken (repro/runs/lifecycle.py)')
    add_wandb_flags(parser)
    args = parser.parse_intermixed_args(argv)  # key=value overrides before or after the options
    check_named_folders(args)
    set_env_flags(args)
    overrides = [*args.overrides, *args.cfg_options, *(AMP if args.amp else [])]
    train(args.config, overrides, args.profile, args.data_root, args.seed, args.work_dir, rows=args.row,
          role=args.role, wandb=args.wandb, launcher=args.launcher, evaluate_from=args.evaluate_from,
          resume=None if args.resume in (None, 'auto') else args.resume)


if __name__ == '__main__':
    run_cli(main)
