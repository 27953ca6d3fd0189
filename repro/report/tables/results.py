"""Each row of a table beside its runs: the reproduced numbers over seeds, the delta to the paper, and a verdict.

A row is served by one planned run per seed. Its reproduced number is the mean (± the sample standard deviation
over seeds where several finished) of the runs that finished; a row none of whose runs finished is 'failed'
(with the first failed run's reason) or 'not run'. Absolute numbers are judged only under a profile whose data is
the paper's (coco); a tiny-profile row that ran is 'not comparable', and the table's ordering is judged instead
(repro.report.tables.ordering).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

from repro.errors import ReproError
from repro.runs.store import finished, read_record

DEFAULT_TOLERANCE = 0.3  # AP points
COMPARABLE_PROFILES = ('coco',)  # profiles whose numbers can be held against the paper's

REPRODUCED = 'reproduced'
NOT_REPRODUCED = 'not reproduced'
NOT_RUN = 'not run'
FAILED = 'failed'
NOT_COMPARABLE = 'not comparable'  # ran, under a profile whose absolute numbers mean nothing against the paper
NO_REFERENCE = 'no published number'
VERDICTS = (REPRODUCED, NOT_REPRODUCED, NOT_COMPARABLE, NO_REFERENCE, FAILED, NOT_RUN)


@dataclass
class RunState:
    """One planned run as the store has it: 'done', 'failed', 'running', 'interrupted', 'stale' or 'pending'."""
    key: str
    seed: int
    state: str
    record: dict | None
    work_dir: str
    reason: str | None = None


@dataclass
class RowResult:
    row: object  # repro.tables.spec.Row
    runs: list[RunState]
    values: dict[str, list[float]] = field(default_factory=dict)  # metric -> one value per finished run
    verdict: str = NOT_RUN
    delta: float | None = None  # mean - published, of the judged metric
    reason: str | None = None  # why a row failed or did not run

    @property
    def done(self) -> list[RunState]:
        return [r for r in self.runs if r.state == 'done']

    def mean(self, metric: str) -> float | None:
        values = self.values.get(metric) or []
        return statistics.mean(values) if values else None

    def std(self, metric: str) -> float | None:
        """Sample standard deviation over seeds; None with fewer than two finished runs."""
        values = self.values.get(metric) or []
        return statistics.stdev(values) if len(values) > 1 else None

    def delta_of(self, metric: str) -> float | None:
        published, mean = self.row.published.get(metric), self.mean(metric)
        return None if published is None or mean is None else mean - published


def judged_metric(spec) -> str:
    """The column verdicts and orderings are judged on: AP where the table has it, else its first metric."""
    return 'AP' if 'AP' in spec.metrics else spec.metrics[0]


def verdict(published: float | None, mean: float, tolerance: float, comparable: bool) -> str:
    """The verdict of a row that ran: within ±tolerance of the paper (inclusive), or not; none without a paper
    number, or where the profile's numbers are not comparable with the paper's."""
    if published is None:
        return NO_REFERENCE
    if not comparable:
        return NOT_COMPARABLE
    return REPRODUCED if abs(mean - published) <= tolerance + 1e-9 else NOT_REPRODUCED


def run_state(run) -> RunState:
    """The store's view of a planned run (repro.plan.dag.PlannedRun), its record read once."""
    work_dir = run.work_dir
    try:
        record = read_record(work_dir) if work_dir.exists() else None
        if record is not None and record.get('run_key') != run.key:
            return RunState(run.key, run.seed, 'pending', None, str(work_dir),
                            f'{work_dir} holds another run ({record.get("run_key")})')
        state = run.status()
    except ReproError as err:  # an unreadable record: say so in the row, do not stop the report
        return RunState(run.key, run.seed, 'pending', None, str(work_dir), str(err))
    if state == 'done' and not finished(work_dir, record):
        state = 'stale'
    reason = (record or {}).get('reason') if state == 'failed' else None
    return RunState(run.key, run.seed, state, record, str(work_dir), reason)


def collect(spec, runs, profile: str, tolerance: float = DEFAULT_TOLERANCE) -> list[RowResult]:
    """Every row of `spec` (in table order) with its runs from `runs` (repro.plan.dag.plan's output) and verdict."""
    if tolerance < 0:
        raise ReproError(f'--tolerance is {tolerance}: give a non-negative number of AP points, e.g. 0.3')
    states = {run.key: run_state(run) for run in runs}
    by_row: dict[str, list[RunState]] = {row.id: [] for row in spec.rows}
    for run in runs:
        for served in run.rows:
            table, _, row_id = served.rpartition('/')
            if table == spec.id and row_id in by_row:
                by_row[row_id].append(states[run.key])
    metric = judged_metric(spec)
    comparable = profile in COMPARABLE_PROFILES
    results = []
    for row in spec.rows:
        result = RowResult(row, sorted(by_row[row.id], key=lambda s: s.seed))
        for state in result.done:
            for name, value in (state.record.get('metrics') or {}).items():
                if name in spec.metrics and value is not None:
                    result.values.setdefault(name, []).append(float(value))
        if result.values.get(metric):
            result.verdict = verdict(row.published.get(metric), result.mean(metric), tolerance, comparable)
            result.delta = result.delta_of(metric)
        elif result.done:
            result.verdict, result.reason = NO_REFERENCE, f'its records hold no {metric}'
        elif any(s.state == 'failed' for s in result.runs):
            result.verdict = FAILED
            result.reason = next(s.reason for s in result.runs if s.state == 'failed') or 'no reason recorded'
        else:
            result.verdict = NOT_RUN
            result.reason = ', '.join(sorted({s.reason or s.state for s in result.runs})) or 'not planned'
        results.append(result)
    return results


def counts(results: list[RowResult]) -> dict[str, int]:
    """Verdict -> number of rows, in VERDICTS order, zero counts left out."""
    tally = {v: sum(r.verdict == v for r in results) for v in VERDICTS}
    return {v: n for v, n in tally.items() if n}
