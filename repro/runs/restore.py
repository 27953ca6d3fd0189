"""Kept records: a run's `result.json` copied out of the store (a report writes them into `<report dir>/runs/`;
`reports/tiny/runs/` is committed), and put back with `--restore DIR`, so that a long experiment outlives the
machine it ran on: a machine may be reclaimed with its store, but not with the repository.

A run key gives bit-identical numbers on one CPU model, not across them (MKL, which torch's CPU build links, picks
its kernels by CPU vendor and ISA: the tiny ATSS-MobileNetV2 student 0d97871da038 gave 12.2 AP on AMD EPYC machines
and 10.5 on an Intel Xeon). So a run's record is kept per CPU model: the first one measured under the plain name,
a later machine's different numbers beside it as `<name>@<cpu>.json`; `--restore` puts back this machine's own
record where there is one, else the first.

A kept record has no weights, but does carry the run's training dynamics (`dynamics`: its dynamics.json, which the
report's figure reads), so that figure can be drawn again from kept records. Put back, it counts as a finished run
(`restored_from` in its record: reports average it; export and the figures drawn from weights cannot use it, and
a report keeps such a figure from its earlier render), unless a run that still has to train needs its weights: a
teacher whose students are not all finished trains again, and gives the same numbers, runs being deterministic.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

from repro.errors import ReproError
from repro.runs.atomic import atomic_write_json
from repro.runs.store import (DYNAMICS_FILE, RESTORED, RESULT_FILE, cpu_of, drop_restored, finished,
                               read_dynamics, read_record, write_record)

KEPT_DYNAMICS = 'dynamics'  # in a kept record: the run's dynamics.json, written back beside the record on --restore


def cpu_slug(cpu: str) -> str:
    """'Intel(R) Xeon(R) Processor' -> 'intel-xeon-processor': the suffix of a record kept for another CPU model."""
    return re.sub(r'[^a-z0-9]+', '-', re.sub(r'\((r|tm)\)', '', cpu.lower())).strip('-') or 'unknown'


def keep_records(runs, out_dir: Path) -> int:
    """Copy the record of every finished run of `runs` (repro.plan.dag.PlannedRun) into out_dir/runs/; returns
    how many. A record kept there already for the same run key with the same metrics stays as it is: it names the
    run first measured (its commit, its time), and a later run of the same key on the same CPU model gives the same
    numbers; it gains the run's training dynamics where it lacks them. Different numbers from another CPU model (or
    beside a record too old to name one) go beside it, as `<name>@<cpu>.json`; from the same CPU model, they
    replace it (the code changed under the key)."""
    kept = 0
    for run in runs:
        record = read_record(run.work_dir) if (run.work_dir / RESULT_FILE).exists() else None
        if not record or record.get('run_key') != run.key or not finished(run.work_dir, record):  # read once
            continue
        kept += 1
        path = out_dir / 'runs' / f'{run.work_dir.name}.json'
        old = kept_record(path, record['run_key'])
        if old and old.get('metrics') != record.get('metrics') and cpu_of(old) != cpu_of(record):
            path = path.with_name(f'{run.work_dir.name}@{cpu_slug(cpu_of(record) or "unknown")}.json')
            old = kept_record(path, record['run_key'])
        dynamics = read_dynamics(run.work_dir)
        if old and old.get('metrics') == record.get('metrics'):
            if old.get(KEPT_DYNAMICS) or not dynamics:
                continue
            record = old
        record.pop(RESTORED, None)  # the copy is the record as trained, wherever it was put back since
        if dynamics:
            record[KEPT_DYNAMICS] = dynamics
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(path, record)  # the store's own format, with the dynamics
    return kept


def kept_record(path: Path, run_key: str) -> dict | None:
    """The record kept at `path` when it is a record of `run_key`; None when there is no such file, it is not a
    record, or it is another run's. Its metrics are the caller's to compare: one key gives one result."""
    try:
        old = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    return old if isinstance(old, dict) and old.get('run_key') == run_key else None


def restorable(runs, records_dir: str | Path) -> list:
    """(run, kept path, record) for the runs of `runs` (repro.plan.dag.PlannedRun) with no finished record whose kept
    record is in records_dir: what `restore` puts back, and what a dry run counts."""
    folder = Path(records_dir)
    if not folder.is_dir():
        raise ReproError(f'--restore {records_dir}: no such folder; give one that holds kept result.json copies, '
                         'such as reports/tiny/runs')
    from repro.training.provenance import cpu_model
    here = cpu_model()
    kept = {}
    for path in sorted(folder.glob('*.json'), key=lambda p: ('@' in p.stem, p.name)):  # first-measured ones first
        try:
            record = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise ReproError(f'--restore: {path} is not a run record ({err}); move it away') from None
        if isinstance(record, dict) and record.get('status') == 'done' and record.get('run_key'):
            if record['run_key'] not in kept or cpu_of(record) == here:  # this machine's own, where there is one
                kept[record['run_key']] = (path, record)
    # not a 'stale' run: a done record without weights, which trains again (repro.runs.store.drop_restored)
    return [(run, *kept[run.key]) for run in runs if run.key in kept
            and run.status() not in ('done', 'running', 'stale')]


def restore(runs, records_dir: str | Path) -> list:
    """Put the kept records in records_dir back into the store for the runs of `runs` that have no finished record;
    retrain_teachers then takes back those whose weights a run still to train needs. Returns the restored runs."""
    restored = restorable(runs, records_dir)
    for run, path, record in restored:
        run.work_dir.mkdir(parents=True, exist_ok=True)
        record = dict(record)
        dynamics = record.pop(KEPT_DYNAMICS, None)
        if dynamics:
            atomic_write_json(run.work_dir / DYNAMICS_FILE, dynamics)
        write_record(run.work_dir, {**record, RESTORED: str(path)})
    return [run for run, _, _ in restored]


def retrain_teachers(runs) -> list:
    """The runs of `runs` put back without weights that a run still to train needs (a teacher): their records are
    dropped, so that the plan trains them first. Returns them."""
    by_key = {run.key: run for run in runs}
    dropped = []
    for run in reversed(runs):  # the plan puts teachers first: a dropped teacher's own teacher is seen after it
        teacher = by_key.get(run.needs)
        if teacher and run.status() != 'done' and drop_restored(teacher.work_dir):
            dropped.append(teacher)
    return dropped
