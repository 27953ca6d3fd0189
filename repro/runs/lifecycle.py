"""A run's lifecycle, from its key to its record: compile and check the config, skip a finished run, train its
teacher first where the tiny profile trains it here, check the teacher, take the run's lock, keep its record up to
date (running, interrupted, failed, done), train it in mmengine's Runner (repro/training/runner.py), export the
student as a plain-mmdet pair.

The teacher check: Verify a distillation run's teacher before it trains: its AP on the val split, measured, and refused when it is
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
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from repro.cli import TRUST_TEACHER_ENV, as_stop
from repro.errors import ReproError
from repro.plan.compile import WEIGHTS_FILE, compile_config
from repro.plan.validate import check, check_environment, check_resume, check_writable
from repro.profiles import choose_profile, repo_relative
from repro.runs.progress import ProgressFile
from repro.runs.store import (RESULT_FILE, claim, default_work_dir, drop_restored, finished, merge_rows, read_record,
                              running_record, status, teacher_dir, write_record)
from repro.training import runner
from repro.training.export import EXPORT_DIR, describe, write_pair

MIN_AP = 1.0  # below it a detector finds almost nothing: random or unloaded weights
TOLERANCE = 3.0  # AP points a teacher's weights may fall short of its own run's AP (another val split, say)


def train(config: str | Path, overrides: list[str] | None = None, profile: str | None = None,
          data_root: str | None = None, seed: int = 0, work_dir: str | Path | None = None,
          rows: list[str] = (), role: str | None = None, wandb: str | None = None, launcher: str = 'none',
          wait: bool = False, evaluate_from: str | None = None, resume: str | None = None) -> dict:
    """Train and evaluate one run; returns its record (repro.runs.store), also written to result.json.

    rows: the table rows ('crosskd:table1/i3') that asked for this run, kept in its record.
    wandb: 'offline' (default), 'online' or 'disabled' (repro.training.tracking).
    launcher: mmengine's launcher; 'pytorch' under torchrun or Slurm tasks, where rank 0 alone keeps the record.
    wait: if another process is training this run, wait for it instead of failing (a shared teacher).
    evaluate_from: evaluate these weights (a path or URL) instead of training; a run of its own (its key differs).
    resume: a checkpoint in the run's work dir to resume from (default: its last one, when there is one).
    """

    check_environment(wandb)
    profile, note = choose_profile(profile, data_root)
    compiled = compile_config(config, profile, overrides, data_root=data_root, seed=seed,
                              evaluate_from=evaluate_from)
    check(compiled)  # a bad setting stops here, before anything is printed or written
    if work_dir:
        check_writable(work_dir, '--work-dir')
    work_dir = Path(work_dir or default_work_dir(config, profile, compiled.run_key))
    if resume:
        check_resume(resume, work_dir)
        compiled.cfg.resume_from = resume  # after the run key: where to resume from is not what the run is
    if note:
        print(f'note: {note}', file=sys.stderr)
    name = Path(config).stem
    if status(work_dir, compiled.run_key) == 'done':
        return _already_done(work_dir, rows, name)
    teacher = compiled.teacher
    if teacher and compiled.teacher_trained_here and drop_restored(teacher_dir(compiled)):
        print(f'{name}: its teacher run {teacher.config.name} was put back from a kept record, without the weights '
              'this run loads: it trains again')
    if teacher and compiled.teacher_trained_here and status(teacher_dir(compiled), teacher.run_key) != 'done':
        # every rank would have to join; and a real-size teacher is days of training that deserves a run of its own
        if launcher != 'none' or profile == 'coco':
            raise ReproError(f'{name}: its teacher run {teacher.config.name} ({teacher.run_key}) is not trained; '
                             'run it first (python -m repro.run plans it as a run of its own) or pass '
                             'teacher.checkpoint=PATH')
        print(f'{name}: training its teacher {teacher.config.name} first')
        train(teacher.config, list(compiled.cfg.teacher.get('overrides', [])), profile, data_root,
              work_dir=teacher_dir(compiled), role='teacher', wandb=wandb, wait=True)
    extra = {}
    if teacher and launcher == 'none':  # a teacher that cannot detect is refused here (repro/runs/lifecycle.py)
        extra['teacher_ap'] = check_teacher(compiled, profile, data_root, wandb)
    compiled.cfg.launcher = launcher
    if launcher != 'none' and int(os.environ.get('RANK', '0')) > 0:  # rank 0 keeps the record and the lock
        metrics, _ = runner.run(compiled, work_dir, rows, role, wandb)
        return {'run_key': compiled.run_key, 'status': 'done', 'metrics': metrics}
    with claim(work_dir, wait):
        record = read_record(work_dir)
        if not finished(work_dir, record):  # else another process finished it while we waited
            result = _train_claimed(compiled, config, overrides, profile, seed, work_dir, rows, role, wandb, record,
                                    extra)
    if finished(work_dir, record):
        return _already_done(work_dir, rows, name)
    print(f'{name}: AP {result["metrics"].get("AP")} ({result["wall_time_s"]:.0f} s) -> {work_dir / RESULT_FILE}')
    return result


def _train_claimed(compiled, config, overrides, profile, seed, work_dir: Path, rows, role, wandb, record,
                   extra: dict) -> dict:
    """Train a run whose lock this process holds, keeping its record up to date (running, failed, done); `extra`
    goes into the record (the teacher's measured AP)."""
    from repro.evaluation.coco_backend import backend
    attempt = record if record and record.get('status') != 'done' else None  # not a stale run's: it starts over
    base = {'run_key': compiled.run_key, 'config': repo_relative(config), 'profile': profile, 'coco_eval': backend(),
            'overrides': list(overrides or []), 'seed': seed, 'work_dir': str(work_dir), 'role': role,
            'rows': merge_rows(record, list(rows)),
            **({'evaluated_from': compiled.cfg.evaluate_from} if compiled.cfg.get('evaluate_from') else {}),
            'started': (attempt or {}).get('started') or time.strftime('%Y-%m-%dT%H:%M:%S%z'), **extra}
    before = float((attempt or {}).get('wall_time_s', 0.0))  # time spent by interrupted attempts
    write_record(work_dir, running_record(base))
    start = time.time()
    try:
        metrics, conditions = runner.run(compiled, work_dir, rows, role, wandb, hooks=[ProgressFile(work_dir)])
    except BaseException as err:  # Ctrl-C and SIGTERM included: the record says why, the next attempt resumes
        # SystemExit: submitit's requeue on preemption or timeout exits from its signal handler mid-training
        stop = as_stop(err)
        reason = (f'exited with code {err.code} during training (a scheduler requeue, e.g. submitit on preemption)'
                  if isinstance(err, SystemExit) else
                  f'{type(stop).__name__}: {stop}' + (f' ({type(err).__name__}: {err})' if stop is not err else ''))
        write_record(work_dir, {**base, 'status': 'interrupted' if isinstance(stop, (KeyboardInterrupt, SystemExit)) else 'failed',
                                'reason': reason[:2000], 'wall_time_s': round(before + time.time() - start, 1)})
        if stop is not err:
            raise stop from err
        raise
    result = {**base, 'status': 'done', 'metrics': metrics,
              'wall_time_s': round(before + time.time() - start, 1), **conditions}
    if not compiled.cfg.get('evaluate_from'):
        result['export'] = _export(compiled, config, work_dir)
    write_record(work_dir, result)
    return result


def _export(compiled, config, work_dir: Path) -> dict:
    """The run's plain-mmdet pair in its work dir (repro/training/export.py), or why there is none: a run that trained is
    not failed by its export."""
    try:
        info = write_pair(compiled.cfg, work_dir / WEIGHTS_FILE, work_dir / EXPORT_DIR, Path(config).stem,
                          compiled.teacher_checkpoint)
    except ReproError as err:
        print(f'{Path(config).stem}: no plain-mmdet export: {err}', file=sys.stderr)
        return {'error': str(err)}
    print(f'{Path(config).stem}: plain-mmdet pair in {work_dir / EXPORT_DIR} ({describe(info)})')
    return info


def _already_done(work_dir: Path, rows: list[str], name: str) -> dict:
    record = read_record(work_dir)
    if rows and set(rows) - set(record.get('rows', [])):
        with claim(work_dir, wait=True):
            record = {**read_record(work_dir), 'rows': merge_rows(read_record(work_dir), list(rows))}
            write_record(work_dir, record)
    print(f'{name}: already done in {work_dir}, AP {record["metrics"].get("AP")}')
    return record


def check_teacher(compiled, profile: str, data_root: str | None, wandb: str | None) -> float:
    """The teacher's measured AP; a ReproError if it is too low to distil from (unless trusted)."""
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
