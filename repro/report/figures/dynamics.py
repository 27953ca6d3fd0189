"""CrossKD's training-dynamics figure: per epoch, each distilled row's distance from the student's predictions to
the teacher's (classification and boxes), to the GT targets, and its val AP, from the `dynamics.json` that the
TrainingDynamics hook (repro/training/dynamics.py) wrote during the run. Distances are measured on the same fixed val
images for every method (repro/distill/distances.py), so prediction mimicking and CrossKD share one scale.
"""
from __future__ import annotations

from pathlib import Path

from repro.runs.store import DYNAMICS_FILE, RESTORED, read_dynamics
from repro.errors import ReproError
from repro.report.figures.checkpoints import cached_figure, save_figure
from repro.report.figures.figure import Figure

TITLE = 'Training dynamics: distance to the teacher and to the GT, and AP, per epoch'
PANELS = (('to_teacher/cls', 'to teacher: cls (QFL)'), ('to_teacher/box', 'to teacher: boxes (1 − GIoU)'),
          ('to_gt/total', 'to GT: detection loss'), ('AP', 'val AP'))


def row_name(row) -> str:
    return f'{row.group} {row.label}' if row.group else row.label


UNTRACKED = "mmdet's own distiller, which the hook does not follow"


def dynamics_of(spec, runs, profile: str) -> tuple[dict[str, tuple[str, list[dict]]], list[str], list[str]]:
    """({row name: (run key, epochs)} for distilled rows whose first finished run has dynamics, [why each finished
    DistillDetector row has none: 'NAME (trained before the hook existed)' or 'NAME (a kept record without them)'],
    [finished distilled rows of another detector (mmdet's LD): 'NAME (UNTRACKED)']) in table order."""
    from repro.report.tables.results import collect
    distillers = {run.key for run in runs if run.compiled.cfg.model.get('type') == 'DistillDetector'}
    curves, without, untracked = {}, [], []
    for result in collect(spec, runs, profile):
        if result.row.role != 'distilled' or not result.done:
            continue
        done = [s for s in result.done if s.key in distillers]
        if not done:
            untracked.append(f'{row_name(result.row)} ({UNTRACKED})')
            continue
        found = next(((s.key, d['epochs']) for s in done if (d := read_dynamics(s.work_dir)) and d['epochs']), None)
        if found:
            curves[row_name(result.row)] = found
        elif all((s.record or {}).get(RESTORED) for s in done):
            without.append(f'{row_name(result.row)} (a kept record without them)')
        else:
            without.append(f'{row_name(result.row)} (trained before the hook existed)')
    return curves, without, untracked


def dynamics_figure(spec, runs, profile: str, fig_dir: Path) -> Figure | None:
    curves, without, untracked = dynamics_of(spec, runs, profile)
    if not curves:
        if without:
            raise ReproError(f'no finished run has training dynamics: {", ".join(without)}; retrain a run of such a '
                             'row (repro.run --rerun ROW) to draw it')
        return None
    path = fig_dir / f'training_dynamics-{spec.path.stem}.png'
    keys = {key for key, _ in curves.values()}
    sources = [Path(run.work_dir) / DYNAMICS_FILE for run in runs if run.key in keys]
    figure = cached_figure('training_dynamics', TITLE, path, sources)
    if figure is None:
        plot({name: epochs for name, (_, epochs) in curves.items()}, path, f'{spec.id}: training dynamics')
        last = {name: epochs[-1] for name, (_, epochs) in curves.items()}
        closest = min(last, key=lambda n: last[n].get('to_teacher/cls', float('inf')))
        closest_gt = min(last, key=lambda n: last[n].get('to_gt/total', float('inf')))
        caption = (
            'Per epoch (0 = before training), on the same first val images for every run: the distance from the '
            "student's predictions to the teacher's (classification: Quality Focal KD, β = 1, per positive; boxes: "
            "1 − GIoU weighted by the teacher's foreground score), to the GT targets (the student head's own "
            'detection loss), and the val AP. After the last epoch the student closest to its teacher (cls) is '
            f'{closest} ({last[closest]["to_teacher/cls"]:.4f}) and the one closest to the GT is {closest_gt} '
            f'({last[closest_gt]["to_gt/total"]:.4f}). Runs: '
            + ', '.join(f'{name} ({key})' for name, (key, _) in curves.items()) + f' ({profile} profile).')
        data = {'rows': {name: {'run_key': key, 'epochs': epochs} for name, (key, epochs) in curves.items()}}
        figure = save_figure('training_dynamics', TITLE, path, caption, data)
    if without or untracked:
        figure.caption += f' No dynamics: {", ".join(without + untracked)}.'
    return figure


def plot(curves: dict[str, list[dict]], path: Path, title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure
    from matplotlib.ticker import MaxNLocator
    fig = MplFigure(figsize=(13, 3.4), dpi=80)
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(PANELS))
    for ax, (key, label) in zip(axes, PANELS):
        for i, (name, epochs) in enumerate(curves.items()):
            points = [(e['epoch'], e[key]) for e in epochs if e.get(key) is not None]
            if points:
                ax.plot(*zip(*points), marker='o', markersize=3, color=f'C{i % 10}', label=name)
        ax.set_title(label, fontsize='medium')
        ax.set_xlabel('epoch')
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize='small')
    fig.suptitle(title)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
