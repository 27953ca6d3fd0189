"""A table as text: the paper's numbers beside ours, from the records of the runs that actually finished.

Until the report renderer exists, `repro.run` prints this at the end of a table. With several seeds a reproduced
number is the mean ± the sample standard deviation; a row with no finished run shows '-', never a number.
"""
from __future__ import annotations

import statistics

from repro.plan import PlannedRun
from repro.store import read_record


def reproduced(spec, runs: list[PlannedRun]) -> dict[str, list[dict[str, float]]]:
    """Row id -> the metrics of each finished run (one per seed) that serves it."""
    out: dict[str, list[dict[str, float]]] = {row.id: [] for row in spec.rows}
    for run in runs:
        record = read_record(run.work_dir) if run.work_dir.exists() else None
        if not record or record.get('status') != 'done' or record.get('run_key') != run.key:
            continue
        for row in run.rows:
            table, _, row_id = row.rpartition('/')
            if table == spec.id and row_id in out:
                out[row_id].append(record['metrics'])
    return out


def cell(values: list[float]) -> str:
    if not values:
        return '-'
    if len(values) == 1:
        return f'{values[0]:.1f}'
    return f'{statistics.mean(values):.1f}±{statistics.stdev(values):.1f}'


def table_text(spec, runs: list[PlannedRun], profile: str) -> str:
    ours = reproduced(spec, runs)
    header = ['row', 'role'] + [f'{m} paper | ours' for m in spec.metrics]
    lines = []
    for row in spec.rows:
        cells = [row.label, row.role]
        for metric in spec.metrics:
            published = row.published.get(metric)
            paper = '—' if published is None else f'{published:.1f}'
            cells.append(f'{paper} | {cell([m[metric] for m in ours[row.id] if metric in m])}')
        lines.append(cells)
    widths = [max(len(r[i]) for r in [header, *lines]) for i in range(len(header))]
    fmt = '  '.join(f'{{:{w}}}' for w in widths)
    title = f'{spec.id}: {spec.title} (ours: {profile} profile)'
    return '\n'.join([title, fmt.format(*header), *(fmt.format(*r) for r in lines)])
