"""Distillation overhead: each method's training step against one student step plus one teacher forward.

    python -m benchmarks.overhead                                   # CPU tiny: tiny-profile models, batch 2
    python -m benchmarks.overhead --setting real --dtype fp32,bf16 --batch 2   # on a GPU: R50 / R101 at 1333x800

Everything runs in one process, interleaved, after warm-up; it prints a table and writes JSON (see
benchmarks/README.md for the fields and benchmarks/RESULTS.md for the last results).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from repro.cli import run_cli
from repro.errors import ReproError
from repro.profiles import REPO_ROOT

DEFAULTS = {'tiny': dict(warmup=3, steps=20, dtype='fp32'), 'real': dict(warmup=5, steps=30, dtype='fp32,bf16')}


def parse_args(argv=None) -> argparse.Namespace:
    from benchmarks.variants import DTYPES, METHODS
    p = argparse.ArgumentParser(prog='python -m benchmarks.overhead', description=__doc__.split('\n')[0])
    p.add_argument('--setting', choices=('tiny', 'real'), default='tiny')
    p.add_argument('--device', choices=('cpu', 'cuda'), help='default: cuda for real, cpu for tiny')
    p.add_argument('--dtype', help=f"comma-separated, of {', '.join(DTYPES)} (bf16: torch.autocast for student "
                                   'and teacher); default fp32 (tiny), fp32,bf16 (real)')
    p.add_argument('--batch', default='2', help='images per step, comma-separated (e.g. 2,8); default 2')
    p.add_argument('--methods', default=','.join(METHODS), help=f"comma-separated, of {', '.join(METHODS)}")
    p.add_argument('--warmup', type=int, help='rounds dropped before measuring; default 3 (tiny), 5 (real)')
    p.add_argument('--steps', type=int, help='measured rounds; default 20 (tiny), 30 (real)')
    p.add_argument('--no-syncs', action='store_true', help='skip counting host-sync ops (one extra step each)')
    p.add_argument('--json', type=Path, help='where to write the results; default '
                                             '$REPRO_WORK_DIRS/benchmarks/overhead-SETTING-DEVICE.json')
    args = p.parse_args(argv)
    d = DEFAULTS[args.setting]
    args.warmup = d['warmup'] if args.warmup is None else args.warmup
    args.steps = d['steps'] if args.steps is None else args.steps
    args.dtypes = _list(args.dtype or d['dtype'], '--dtype', DTYPES)
    args.methods = _list(args.methods, '--methods', METHODS)
    try:
        args.batches = [int(b) for b in args.batch.split(',')]
    except ValueError:
        raise ReproError(f'--batch is {args.batch!r}: give whole numbers, comma-separated (e.g. 2,8)') from None
    if args.steps < 1 or args.warmup < 0 or min(args.batches) < 1:
        raise ReproError('--steps and --batch must be at least 1 and --warmup at least 0')
    return args


def _list(text: str, flag: str, allowed) -> list[str]:
    items = [x.strip() for x in text.split(',') if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        raise ReproError(f"{flag} has {', '.join(bad) or 'nothing'}: choose from {', '.join(allowed)}")
    return items


def pick_device(args) -> str:
    import torch
    has_cuda = torch.cuda.is_available()
    if args.device == 'cuda' and not has_cuda:
        raise ReproError('--device cuda: no CUDA GPU is visible (torch.cuda.is_available() is False)')
    if args.device == 'cpu' and 'bf16' in args.dtypes:
        raise ReproError('bf16 is measured on CUDA only: CPU bf16 autocast of these detectors crashes in oneDNN on '
                         'some CPUs (an illegal instruction, or "could not create a primitive" in GFL\'s integral '
                         'F.linear); use --dtype fp32 on the CPU')
    if args.device:
        return args.device
    if args.setting == 'real' or 'bf16' in args.dtypes:
        if not has_cuda:
            raise ReproError('the real setting (GFL/ATSS R50 students, R101 teachers, 1333x800) and bf16 are GPU '
                             'benchmarks and no CUDA GPU is visible; run them on a GPU machine, or pass --device cpu '
                             '--dtype fp32 --warmup 0 --steps 1 --methods crosskd for a slow smoke run')
        return 'cuda'
    return 'cpu'


def main(argv=None) -> None:
    args = parse_args(argv)
    device = pick_device(args)
    from benchmarks.measure import count_syncs, environment, interleaved, memory_probe, resident_bytes
    from benchmarks.summary import summarise, table
    from benchmarks.variants import make_variants
    print(f'building {args.setting} models on {device} ...', file=sys.stderr)
    variants = make_variants(args.setting, args.methods, args.dtypes, args.batches, device)
    probe = memory_probe(device)

    def progress(done, total):
        if sys.stderr.isatty() or done == total:
            print(f'\rround {done}/{total} ({len(variants)} variants)', end='' if done < total else '\n',
                  file=sys.stderr, flush=True)
    interleaved(variants, args.warmup, args.steps, device, probe, progress)
    for v in variants:
        v.resident = resident_bytes(v.modules, v.optimizer)
        if not args.no_syncs:
            v.syncs = count_syncs(v.run, device)
    result = dict(setting=args.setting, device=device, dtypes=args.dtypes, batches=args.batches,
                  methods_run=args.methods, warmup=args.warmup, steps=args.steps, memory_method=probe.name,
                  environment=environment(device), **summarise(variants))
    check_finite(result)
    print(table(result))
    out = args.json or (Path(os.environ.get('REPRO_WORK_DIRS') or REPO_ROOT / 'work_dirs') / 'benchmarks'
                        / f'overhead-{args.setting}-{device}.json')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, default=str))
    print(f'wrote {out}')


def check_finite(result: dict) -> None:
    """A NaN or infinite time or memory means a broken measurement: stop rather than write it."""
    for row in result['methods'] + result['guides'] + result['bf16']:
        for key, value in row.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(x, float) and not math.isfinite(x) for x in values):
                raise ReproError(f'benchmark measured {key}={value} for {row}: rerun with more --steps')


if __name__ == '__main__':
    run_cli(main)
