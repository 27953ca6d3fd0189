"""Measure a profile's seed-to-seed noise from finished runs: `python benchmarks/seed_noise.py --store DIR
--rows configs/detectors/gfl_r50.py configs/methods/crosskd_gfl.py pgd:table1/atss_pgd ...`.

For each named row (a config run with no overrides, or TABLE/ROW: that table row's config with the row's overrides,
such as the gradient clipping of PGD's tables; its runs over every seed the store has finished), prints the AP of
each seed, the mean and the sample standard deviation, and the pooled standard deviation over the rows (each row's
variance weighted by its degrees of freedom). With --write it records them in benchmarks/seed_noise/<profile>.json,
which claim verdicts read (repro.report.tables.seed_noise), or in --out's folder, and copies the records used into
the folder's runs/, removing an earlier measurement's records from there. Only runs whose key is the one
today's code and profile give are used, and the profile file's hash is recorded with them, so a later change to the
profile file marks the measurement stale until it is measured again.
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
from pathlib import Path

from repro.errors import ReproError
from repro.report.tables.seed_noise import NOISE_DIR, profile_sha
from repro.profiles import REPO_ROOT, profile_file
from repro.runs.restore import kept_record
from repro.runs.store import cpu_of
from repro.tables.spec import resolve


def row_run(name: str) -> tuple[str, list[str]]:
    """The config and overrides a row names: a config path as it is, or TABLE/ROW (pgd:table1/atss_pgd) as that
    table's row runs."""
    if name.endswith('.py'):
        if not (REPO_ROOT / name).is_file():
            raise SystemExit(f'{name}: no such config (a path relative to the repository, such as '
                             'configs/detectors/gfl_r50.py)')
        return name, []
    table, sep, row_id = name.rpartition('/')
    if not sep:
        raise SystemExit(f"{name}: name a config (configs/...py) or a table's row as TABLE/ROW, "
                         'such as pgd:table1/atss_pgd')
    try:
        run = resolve(table)[0].row(row_id).run
    except ReproError as err:
        raise SystemExit(f'{name}: {err}')
    return run.config, list(run.overrides)


def kept_dirs(folder: Path | None) -> list[Path]:
    """Where kept records are looked for: the measurement's own runs/ (`folder`, default benchmarks/seed_noise/),
    then, for a measurement written elsewhere with --out, those of the one claim verdicts use."""
    return list(dict.fromkeys([(folder or NOISE_DIR) / 'runs', NOISE_DIR / 'runs']))


def finished_runs(store: Path, profile: str, config: str, overrides: list[str] = (),
                  folder: Path | None = None) -> list[dict]:
    """The done records under store/profile of `config` run with `overrides`, and those kept in kept_dirs(folder)
    (runs of another machine's store), one per seed: the run whose key is the key today's code and profile give
    that seed (a run of an earlier profile or config is another run)."""
    from repro.plan.compile import compile_config
    by_seed: dict[int, list[dict]] = {}
    stem = Path(config).stem
    paths = [*sorted((store / profile).glob(f'{stem}-*/result.json')),
             *(path for kept in kept_dirs(folder) for path in sorted(kept.glob(f'{stem}-*.json')))]
    for path in paths:
        record = json.loads(path.read_text())
        if record.get('status') == 'done' and record.get('metrics'):
            record['_path'] = path
            by_seed.setdefault(record['seed'], []).append(record)
    runs = []
    for seed in sorted(by_seed):
        key = compile_config(REPO_ROOT / config, profile, overrides=list(overrides), seed=seed).run_key
        runs += [r for r in by_seed[seed] if r['run_key'] == key][:1]
    return runs


def kept_name(record: dict) -> str:
    return f"{Path(record['config']).stem}-{record['run_key']}.json"


def kept_or_new(record: dict, metric: str, folder: Path | None = None) -> dict:
    """The record kept in kept_dirs(folder) for this run key, where there is one (it names the commit and time of
    the run first measured; a later run of the same key, or the store's restored copy of the kept record,
    adds nothing), else the store's. A kept record whose metric differs from the store's run of the same key on the
    same CPU model is refused: one key must give one result on one machine. From another CPU model (or beside a
    record too old to name one, as repro.runs.restore.keep_records treats it), the kept record stays the
    measurement's, and a line says so."""
    for path in (d / kept_name(record) for d in kept_dirs(folder)):
        kept = kept_record(path, record['run_key'])
        if kept is not None:
            break
    else:
        return record
    ours, theirs = record['metrics'][metric], kept.get('metrics', {}).get(metric)
    if theirs != ours:
        if cpu_of(kept) and cpu_of(kept) == cpu_of(record):
            raise SystemExit(f"{record['_path']}: {metric} {ours}, but its kept record {path} has {theirs} on the "
                             f"same CPU ({cpu_of(record)}): the same run key must give the same result")
        print(f"{record['_path']}: {metric} {ours} on {cpu_of(record) or 'a CPU its record does not name'}; the "
              f"measurement keeps {path} ({theirs} on {cpu_of(kept) or 'a CPU its record does not name'})")
    return {**kept, '_path': path}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--store', required=True, help='work dirs root holding <profile>/<config>-<key>/result.json')
    parser.add_argument('--profile', default='tiny')
    parser.add_argument('--metric', default='AP')
    parser.add_argument('--rows', '--configs', dest='rows', nargs='+', required=True,
                        help='configs (run without overrides) or table rows as TABLE/ROW, e.g. pgd:table1/atss_pgd')
    parser.add_argument('--write', action='store_true', help=f'record the result in {NOISE_DIR}')
    parser.add_argument('--out', help=f'with --write: another folder than {NOISE_DIR}, for a measurement that claim '
                                      'verdicts do not use (such as benchmarks/seed_noise/val100/)')
    args = parser.parse_args(argv)
    folder = Path(args.out) if args.out else NOISE_DIR
    rows, records, commits = {}, [], set()
    for name in args.rows:
        config, overrides = row_run(name)
        runs = [kept_or_new(r, args.metric, folder)
                for r in finished_runs(Path(args.store), args.profile, config, overrides, folder)]
        if len(runs) < 2:
            raise SystemExit(f'{name}: {len(runs)} finished seed(s) in {args.store}; need at least 2')
        values = [float(r['metrics'][args.metric]) for r in runs]
        rows[name] = dict(config=config, overrides=overrides, seeds=[r['seed'] for r in runs], values=values,
                          mean=round(statistics.mean(values), 3), std=round(statistics.stdev(values), 3),
                          run_keys=[r['run_key'] for r in runs], wall_time_s=[r.get('wall_time_s') for r in runs])
        records += runs
        commits |= {r['git_commit'] for r in runs}
        print(f"{name}: {args.metric} {values} mean {rows[name]['mean']:.2f} std {rows[name]['std']:.2f}")
    dof = sum(len(r['values']) - 1 for r in rows.values())
    sigma = math.sqrt(sum((len(r['values']) - 1) * r['std'] ** 2 for r in rows.values()) / dof)
    print(f'pooled std {sigma:.3f} {args.metric} over {len(rows)} rows ({dof} degrees of freedom)')
    if not args.write:
        return
    out = folder / f'{args.profile}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(dict(profile=args.profile, metric=args.metric, sigma=round(sigma, 3), dof=dof,
                                   rows=rows, commits=sorted(commits),
                                   profile_sha=profile_sha(profile_file(args.profile).read_bytes()),
                                   made_by=' '.join(['python benchmarks/seed_noise.py --write', *(
                                       ['--out', args.out] if args.out else []), '--rows', *args.rows])),
                              indent=1) + '\n')
    runs_dir = folder / 'runs'
    runs_dir.mkdir(exist_ok=True)
    kept = {kept_name(record): record['_path'] for record in records}
    for name, path in kept.items():
        if path != runs_dir / name:
            shutil.copyfile(path, runs_dir / name)
    # The folder holds exactly the measurement's records: one of an earlier measurement (a key today's code no
    # longer gives) goes, as git shows, so the file and its records are read as one set.
    gone = sorted(p.name for p in runs_dir.glob('*.json') if p.name not in kept)
    for name in gone:
        (runs_dir / name).unlink()
    print(f'wrote {out} and {len(kept)} records in {runs_dir}' + (f"; removed {', '.join(gone)}" if gone else ''))


if __name__ == '__main__':
    main()
