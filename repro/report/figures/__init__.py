"""The figures of a table's report: a list of figure makers, each regenerating one of the papers' figures from
the harness's own runs (their records and checkpoints).

A maker is `make(spec, runs, profile, out_dir) -> Figure | None`: it writes a PNG under out_dir/figures/ and
returns what it drew (figure.py), or None when the table has nothing for it (no run of the kind it needs). A
ReproError (say, a checkpoint missing) becomes a note in the report instead of stopping it. The makers are listed in
FIGURES: gradient maps, quality heatmaps, masking curves, ablation plots, detections and training dynamics; a new
figure is a module here and a line there.
"""
from __future__ import annotations

import importlib
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
            notes.append(f'{name}: not drawn: {err}')
            continue
        if figure is not None:
            figures.append(figure)
    return figures, notes
