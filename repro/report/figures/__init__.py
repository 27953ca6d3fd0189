"""The figures of a table's report: a list of figure makers, each regenerating one of the papers' figures from
the harness's own runs (their records and checkpoints).

A maker is `make(spec, runs, profile, out_dir) -> Figure | None`: it writes a PNG under out_dir/figures/ and
returns what it drew (figure.py), or None when the table has nothing for it (no run of the kind it needs). A
ReproError (say, a checkpoint missing) becomes a note in the report instead of stopping it, unless the report
drawn into the same folder before showed that figure from runs that are all still finished (`kept_figure`). The
makers are listed in FIGURES: gradient maps, quality heatmaps, masking curves, ablation plots, detections and
training dynamics; a new figure is a module here and a line there.
"""
from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

from repro.errors import ReproError
from repro.report.figures.figure import FIGURE_DIR, Figure

#: name -> (module, function) of every figure maker, in the order the report shows them; imported when a report is
#: drawn (they import torch and mmdet)
FIGURES = {
    'gradient_maps': ('gradmap', 'gradient_figure'),
    'quality_heatmaps': ('quality', 'quality_figure'),
    'masking_curve': ('masking', 'masking_figure'),
    'ablation': ('ablation_plots', 'ablation_figure'),
    'detections': ('detections', 'detections_figure'),
    'training_dynamics': ('dynamics', 'dynamics_figure'),
}


def maker(name: str):
    """The figure maker of this name."""
    module, function = FIGURES[name]
    return getattr(importlib.import_module(f'{__name__}.{module}'), function)


def make_figures(spec, runs, profile: str, out_dir: Path, names: list[str] | None = None
                 ) -> tuple[list[Figure], list[str]]:
    """Run every registered maker (or those named) for one table; returns the figures and notes on the ones that
    could not be made."""
    figures, notes = [], []
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise ReproError(f"unknown figure '{name}'; figures: {', '.join(FIGURES)}")
        try:
            figure = maker(name)(spec, runs, profile, out_dir / FIGURE_DIR)
        except ReproError as err:
            figure = kept_figure(spec, runs, out_dir, name)
            if figure is None:
                notes.append(f'{name}: not drawn: {err}')
                continue
        if figure is not None:
            figures.append(figure)
    return figures, notes


KEPT_NOTE = ("Kept from this report's earlier render: the weights it was drawn from are not in this store (its runs "
             'were put back from kept records), and every run it names is finished under the same run key, which '
             'gives the same weights.')
RUN_KEY = re.compile(r'\b[0-9a-f]{12}\b')


def kept_figure(spec, runs, out_dir: Path, name: str) -> Figure | None:
    """The figure `name` as the table's last report in out_dir showed it (its manifest, <slug>.json), where its PNG
    and data are still there and every run key in its file name and data is a run of `runs` that is finished.

    A machine that ran a table may be reclaimed with its store; the next one puts the records back without weights
    (repro.runs.restore), so a figure drawn from models cannot be drawn again. A run key fixes the run's weights bit
    for bit, so the figure still shows those runs, though not rows finished since it was drawn."""
    from repro.report.tables.page import read_manifests
    entry = next((f for f in read_manifests(out_dir).get(spec.id, {}).get('figures', []) if f.get('name') == name),
                 None)
    if entry is None:
        return None
    path = out_dir / entry['path']
    try:
        sidecar = path.with_suffix('.json').read_text()
        data = json.loads(sidecar).get('data', {})
    except (OSError, ValueError, AttributeError):
        return None
    keys = set(RUN_KEY.findall(path.name + sidecar))
    by_key = {run.key: run for run in runs}
    if not path.is_file() or not keys or any(k not in by_key or by_key[k].status() != 'done' for k in keys):
        return None
    caption = entry.get('caption', '')
    return Figure(name, entry.get('title', name), path,
                  caption if caption.endswith(KEPT_NOTE) else f'{caption} {KEPT_NOTE}'.strip(), data)


def fuller_kept_figure(spec, runs, out_dir: Path, name: str, runs_now: int) -> Figure | None:
    """kept_figure, where it names more runs than the `runs_now` a maker could draw from now: some of its runs were
    put back from kept records without weights, and drawing again would lose them (rows, teachers)."""
    kept = kept_figure(spec, runs, out_dir, name)
    return kept if kept is not None and len(set(RUN_KEY.findall(kept.path.name))) > runs_now else None
