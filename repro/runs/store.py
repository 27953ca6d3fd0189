"""The results store: one record per run, `result.json` in the run's work dir, and one lock per run.

A record holds the run key, the table rows that asked for it, profile, config, overrides, seed, status (`running`,
`done`, or `failed` with the reason), metrics, wall time and provenance. Records are written atomically. A run is
trained only by the process that holds its lock (`flock` on `<work dir>/.lock`, released by the kernel when that
process dies), so two `repro.run` processes on one store never train the same run twice; a `running` record whose
lock nobody holds is an interrupted run, which the next attempt resumes from its last checkpoint.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
from contextlib import contextmanager
from pathlib import Path

from repro.errors import ReproError
from repro.runs.atomic import atomic_write_json
from repro.profiles import REPO_ROOT

RESULT_FILE = 'result.json'
WEIGHTS_FILE = 'weights.pth'  # a finished run's final model weights (a distiller's: the plain student's)
DYNAMICS_FILE = 'dynamics.json'  # a distillation run's training dynamics (repro.training.dynamics)
LOCK_FILE = '.lock'
RESTORED = 'restored_from'  # in a record put back from a kept copy (repro.runs.restore): the copy it came from
STATUSES = ('pending', 'running', 'interrupted', 'failed', 'stale', 'done')


def work_dirs_root() -> Path:
    """Where the store's work dirs live: $REPRO_WORK_DIRS, default work_dirs in the repo."""
    return Path(os.environ.get('REPRO_WORK_DIRS') or REPO_ROOT / 'work_dirs')


def default_work_dir(config: str | Path, profile: str, run_key: str) -> Path:
    """<work dirs root> / profile / <config name>-<run key>."""
    return work_dirs_root() / profile / f'{Path(config).stem}-{run_key}'


def teacher_dir(compiled) -> Path:
    """The work dir of a distillation run's teacher run."""
    return default_work_dir(compiled.teacher.config, compiled.teacher.profile, compiled.teacher.run_key)

class RunBusy(ReproError):
    """Another process holds the run's lock."""


def cpu_of(record: dict) -> str | None:
    """The CPU model a record was measured on (repro.training.provenance.hardware); None in records made before."""
    return (record.get('hardware') or {}).get('cpu')


def read_record(work_dir: str | Path) -> dict | None:
    path = Path(work_dir) / RESULT_FILE
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:  # atomic writes make this unlikely: say where, do not guess
        raise ReproError(f'cannot read the run record {path}: {err}; move it away to retrain that run') from err


def write_record(work_dir: str | Path, record: dict) -> None:
    atomic_write_json(Path(work_dir) / RESULT_FILE, record)


def read_dynamics(work_dir: str | Path) -> dict | None:
    """The run's dynamics ({'images', 'epochs': [{'epoch', 'to_teacher/cls', ..., 'AP'}]}), or None."""
    try:
        data = json.loads((Path(work_dir) / DYNAMICS_FILE).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get('epochs'), list) else None


def is_locked(work_dir: str | Path) -> bool:
    """Whether some process holds the run's lock right now (without taking it)."""
    path = Path(work_dir) / LOCK_FILE
    if not path.exists():
        return False
    with open(path, 'a') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(f, fcntl.LOCK_UN)
    return False


def finished(work_dir: str | Path, record: dict | None) -> bool:
    """A 'done' record whose weights are there (runs of harness versions before weights.pth was written are not),
    that evaluated weights from elsewhere (`evaluated_from`: a zoo teacher's row), or that was put back from a kept
    copy without its weights (`restored_from`: repro.runs.restore)."""
    return bool(record) and record.get('status') == 'done' and (
        bool(record.get('evaluated_from')) or bool(record.get(RESTORED)) or (Path(work_dir) / WEIGHTS_FILE).exists())


def drop_restored(work_dir: str | Path) -> bool:
    """Turn a record put back without weights (repro.runs.restore) into a 'stale' one (done, no weights), so that
    its run trains again; whether there was one. Not removed: a `--restore` of another process (a report rendered
    meanwhile) would put it back, and this run would count as finished without the weights it is retrained for."""
    record = read_record(work_dir)
    if not record or not record.get(RESTORED):
        return False
    record.pop(RESTORED)
    write_record(work_dir, record)
    return True


def status(work_dir: str | Path, run_key: str) -> str:
    """'done', 'running' (locked by a live process), 'failed', 'interrupted' (a dead process's 'running' record, or
    a run stopped by Ctrl-C or SIGTERM),
    'stale' (done, but without its weights.pth: retrained) or 'pending' (no record). A record of another run key
    in this work dir is an error."""
    record = read_record(work_dir)
    if record is None:
        return 'running' if is_locked(work_dir) else 'pending'
    if record.get('run_key') != run_key:
        raise ReproError(f'{work_dir} holds a different run ({record.get("run_key")}); pass another --work-dir')
    if record.get('status') == 'running':
        return 'running' if is_locked(work_dir) else 'interrupted'
    if record.get('status') == 'done' and not finished(work_dir, record):
        return 'stale'
    return record.get('status', 'failed')


@contextmanager
def claim(work_dir: str | Path, wait: bool = False):
    """Hold the run's lock for the block. If another process holds it: RunBusy, or with `wait` block until it is
    released (the caller then finds that process's record, usually 'done'). Every writer of a work dir holds its
    lock, so temporary files found there once it is held are a dead writer's, and are removed."""
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    with open(work_dir / LOCK_FILE, 'a') as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as err:
            if not wait:
                raise RunBusy(f'{work_dir} is being trained by another process; wait for it or stop it') from err
            print(f'waiting for another process that trains {work_dir} ...', flush=True)
            fcntl.flock(f, fcntl.LOCK_EX)
        for tmp in work_dir.glob('.*.tmp'):  # left by a writer killed between write and rename (repro.runs.atomic)
            tmp.unlink(missing_ok=True)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def merge_rows(old: dict | None, rows: list[str]) -> list[str]:
    """The table rows a run serves: those of its earlier record plus the new ones, in first-seen order."""
    return list(dict.fromkeys([*(old or {}).get('rows', []), *rows]))


def running_record(base: dict) -> dict:
    return {**base, 'status': 'running', 'pid': os.getpid(), 'host': socket.gethostname()}
