"""Progress of a table's runs: a rich bar over the table's runs and one bar per active run over its iterations.

A training run (repro.train, in this process, a subprocess, a torchrun rank 0 or a Slurm job) writes its
iteration counter to `<work dir>/progress.json` through `ProgressFile`, an mmengine hook. The launcher's
`Board` reads those files once a second from a background thread, so the same bars work whatever runs the
training. Each finished run also gets a one-line summary, which is what a log file (no terminal) keeps.
"""
from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from mmengine.hooks import Hook

from repro.runs.atomic import atomic_write_json

PROGRESS_FILE = 'progress.json'


class ProgressFile(Hook):
    """Writes {'iter', 'max_iters', 'phase'} to the work dir's progress.json, at most every `every` seconds."""

    priority = 'VERY_LOW'

    def __init__(self, work_dir: str | Path, every: float = 2.0):
        self.path = Path(work_dir) / PROGRESS_FILE
        self.every = every
        self._last = 0.0

    def _write(self, runner, phase: str, force: bool = False) -> None:
        now = time.time()
        if force or now - self._last >= self.every:
            self._last = now
            atomic_write_json(self.path, {'iter': runner.iter, 'max_iters': runner.max_iters, 'phase': phase,
                                          'time': now})

    def before_train(self, runner) -> None:
        self._write(runner, 'train', force=True)

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self._write(runner, 'train')

    def before_val(self, runner) -> None:
        self._write(runner, 'evaluating', force=True)

    def after_val(self, runner) -> None:
        self._write(runner, 'train', force=True)


def read_progress(work_dir: str | Path) -> dict | None:
    try:
        return json.loads((Path(work_dir) / PROGRESS_FILE).read_text())
    except (OSError, ValueError):  # not started yet, or a file from another harness version
        return None


def run_summary(run, status: str, record: dict | None, note: str = '') -> str:
    """One line per finished run: name, role, key, rows, status, AP (or the reason) and wall time."""
    record = record or {}
    rows = ', '.join(r.rpartition('/')[2] for r in run.rows) or 'teacher of others'
    ap = (record.get('metrics') or {}).get('AP')
    parts = [f'{run.name} ({run.role}, {run.key}; {rows}): {status}']
    if status == 'done' and ap is not None:
        parts.append(f'AP {ap:g}')
    if record.get('wall_time_s') is not None:
        parts.append(f"{float(record['wall_time_s']):.0f} s")
    if status != 'done' and record.get('reason'):
        parts.append(str(record['reason']).splitlines()[0][:200])
    if note:
        parts.append(note)
    return ', '.join(parts)


class Board:
    """Rich bars for a table: use as a context manager; `started(run)` and `finished(run, status)` from the
    launcher. Bars redraw in a terminal; elsewhere (a log, CI) only the summary lines and the final bars print."""

    def __init__(self, title: str, runs: list, done: int = 0):
        from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                   TimeRemainingColumn)
        self.progress = Progress(TextColumn('{task.description}'), BarColumn(), MofNCompleteColumn(),
                                 TextColumn('{task.fields[phase]}'), TimeElapsedColumn(), TextColumn('ETA'),
                                 TimeRemainingColumn())
        self.table = self.progress.add_task(title, total=len(runs), completed=done, phase='runs')
        self.active: dict[str, tuple] = {}  # run key -> (run, task id, whether its bar has been set yet)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> 'Board':
        self.progress.start()
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.progress.stop()

    def print(self, line: str) -> None:
        """One line, never wrapped: a log keeps each summary whole, for grep."""
        self.progress.console.print(line, highlight=False, markup=False, soft_wrap=True)

    def started(self, run, how: str = '') -> None:
        with self._lock:
            task = self.progress.add_task(f'  {run.name} {run.key}', total=None, phase='starting')
            self.active[run.key] = (run, task, False)
        if how:
            self.print(f'{run.name} ({run.role}, {run.key}): {how}')

    def requeued(self, run) -> None:
        """The run went back to the queue (another process had just claimed it): drop its bar."""
        with self._lock:
            _, task, _ = self.active.pop(run.key, (None, None, None))
            if task is not None:
                self.progress.remove_task(task)

    def finished(self, run, status: str, note: str = '') -> None:
        from repro.errors import ReproError
        from repro.runs.store import read_record
        self.requeued(run)
        with self._lock:
            self.progress.advance(self.table)
        try:
            record = read_record(run.work_dir)
        except ReproError:  # an unreadable record: the summary goes without it
            record = None
        self.print(run_summary(run, status, record, note))

    def _poll(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                for key, (run, task, seen) in list(self.active.items()):
                    state = read_progress(run.work_dir)
                    if not state:
                        continue
                    if not seen:  # a resumed run starts part-way: reset, so its speed (ETA) counts from here
                        self.progress.reset(task, total=state['max_iters'], completed=state['iter'])
                        self.active[key] = (run, task, True)
                    self.progress.update(task, total=state['max_iters'], completed=state['iter'],
                                         phase=state['phase'])
