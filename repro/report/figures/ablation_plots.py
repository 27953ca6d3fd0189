"""Ablation plots: a hyper-parameter against AP (PGD Table 6a's K, 6b's α, CrossKD Table 1's layer index, ...),
ours from the results store beside the published curve.

A table gets one when its rows' `params` (repro.tables.spec.Row.params) name exactly one numeric parameter that
takes three or more values: that is the x axis, and the rows' other parameters split the points into series
(6b's detector). Ours is the mean over finished seeds (± the sample std as an error bar) of the table's judged
metric; under a profile whose numbers are not comparable with the paper's (tiny), ours and the paper's curves get
separate y axes (left and right). A table's plain student row, where it has one, is drawn as a horizontal line.
"""
from __future__ import annotations

from pathlib import Path

from repro.errors import ReproError
from repro.report.figures.figure import Figure

MIN_POINTS = 3


def _numeric(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def ablation_axes(spec) -> tuple[str, list[str]] | None:
    """(the x parameter, the parameters that name a series) of a table, or None when it is no numeric sweep."""
    rows = [r for r in spec.rows if r.params]
    if not rows:
        return None
    names = list(rows[0].params)
    numeric = [n for n in names if all(_numeric(r.params[n]) for r in rows)
               and len({r.params[n] for r in rows}) >= MIN_POINTS]
    if len(numeric) != 1:
        return None
    return numeric[0], [n for n in names if n != numeric[0]]


def series_points(spec, results, x: str, by: list[str], metric: str) -> dict[str, list[dict]]:
    """{series label: [{'x', 'paper', 'ours', 'std', 'row', 'verdict'}, ...] sorted by x}."""
    series: dict[str, list[dict]] = {}
    for result in results:
        row = result.row
        if not row.params:
            continue
        # '' for a table of one series; 'fcos' for a named value, 'crosskd=True' for a flag
        label = ', '.join(f'{n}={row.params[n]}' if isinstance(row.params[n], bool) else f'{row.params[n]}'
                          for n in by)
        series.setdefault(label, []).append({
            'x': row.params[x], 'paper': row.published.get(metric), 'ours': result.mean(metric),
            'std': result.std(metric), 'row': row.id, 'verdict': result.verdict})
    return {k: sorted(v, key=lambda p: p['x']) for k, v in series.items()}


def ablation_figure(spec, runs, profile: str, fig_dir: Path) -> Figure | None:
    """The figure for a table whose rows sweep one numeric parameter (see ablation_axes)."""
    from repro.report.tables.results import COMPARABLE_PROFILES, collect, judged_metric
    axes = ablation_axes(spec)
    if axes is None:
        return None
    x, by = axes
    metric = judged_metric(spec)
    results = collect(spec, runs, profile)
    series = series_points(spec, results, x, by, metric)
    points = [p for s in series.values() for p in s]
    ours = [p for p in points if p['ours'] is not None]
    if not ours:
        states = sorted({p['verdict'] for p in points})
        raise ReproError(f'no finished run among its {len(points)} {x} rows yet ({", ".join(states)})')
    baselines = [(r.row.label, r.row.published.get(metric), r.mean(metric)) for r in results
                 if not r.row.params and r.row.role == 'student']
    comparable = profile in COMPARABLE_PROFILES
    path = fig_dir / f'ablation-{spec.path.stem}.png'
    plot(series, baselines, x, metric, comparable, path, f'{spec.id}: {x} against {metric}')
    missing = [p['row'] for p in points if p['ours'] is None]
    caption = (f'{metric} against {x} ({spec.id}): ours (solid, mean ± std over finished seeds) and the paper '
               f'(dashed)' + ('' if comparable else f', on separate y axes: {profile}-profile numbers are not on '
                              "COCO's scale, so compare the shapes") + '. '
               + (f"Series by {', '.join(by)}: " + ', '.join(series) + '. ' if by else '')
               + ('Student baseline drawn as a horizontal line. ' if baselines else '')
               + f'{len(ours)} of {len(points)} points have our number'
               + (f'; not run or failed: {", ".join(missing)}.' if missing else '.'))
    data = {'x': x, 'series_by': by, 'metric': metric,
            'series': {k: [{kk: p[kk] for kk in ('x', 'paper', 'ours', 'std', 'row')} for p in v]
                       for k, v in series.items()}}
    return Figure('ablation', f'Ablation: {x} against {metric}', path, caption, data)


def plot(series: dict[str, list[dict]], baselines: list, x: str, metric: str, comparable: bool, path: Path,
         title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    fig = MplFigure(figsize=(6.4, 4.0), dpi=80)
    FigureCanvasAgg(fig)
    ours_ax = fig.subplots()
    paper_ax = ours_ax if comparable else ours_ax.twinx()
    colours = [f'C{i}' for i in range(10)]
    handles = []
    for i, (label, points) in enumerate(series.items()):
        colour = colours[i % len(colours)]
        done = [p for p in points if p['ours'] is not None]
        handles.append(ours_ax.errorbar([p['x'] for p in done], [p['ours'] for p in done],
                                        yerr=[p['std'] or 0.0 for p in done], color=colour, marker='o',
                                        capsize=3, label=f'{label} (ours)' if label else 'ours'))
        published = [p for p in points if p['paper'] is not None]
        handles += paper_ax.plot([p['x'] for p in published], [p['paper'] for p in published], color=colour,
                                 linestyle='--', marker='x', alpha=0.7, label=f'{label} (paper)' if label else 'paper')
    for label, paper, ours in baselines:
        if ours is not None:
            handles.append(ours_ax.axhline(ours, color='grey', linestyle=':', label='student (ours)'))
        if paper is not None:
            handles.append(paper_ax.axhline(paper, color='grey', linestyle='-.', alpha=0.6,
                                            label='student (paper)'))
    xs = [p['x'] for points in series.values() for p in points]
    if min(xs) > 0 and max(xs) / min(xs) >= 20:  # α from 0.005 to 0.2
        ours_ax.set_xscale('log')
    if all(isinstance(v, int) for v in xs) or len(set(xs)) <= 8:
        ours_ax.set_xticks(sorted(set(xs)), [f'{v:g}' for v in sorted(set(xs))])
        ours_ax.minorticks_off()
    ours_ax.set_xlabel(x)
    ours_ax.set_ylabel(f'{metric} (ours)' if not comparable else metric)
    if not comparable:
        paper_ax.set_ylabel(f'{metric} (paper, COCO)')
    ours_ax.grid(alpha=0.3)
    ours_ax.legend(handles=handles, fontsize='small', loc='best')
    ours_ax.set_title(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
