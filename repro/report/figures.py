"""The figures of a table's report: a plain dict of figure makers, each regenerating one of the papers' figures from
the harness's own runs (their records and checkpoints).

A maker is `make(spec, runs, profile, out_dir) -> Figure | None`: it writes a PNG under out_dir/figures/ and
returns what it drew, or None when the table has nothing for it (no run of the kind it needs). A ReproError
(say, a checkpoint missing) becomes a note in the report instead of stopping it. Registered: gradient maps
(gradmap.py), quality heatmaps (quality.py), masking curves (masking.py), ablation plots (ablation_plots.py) and
detections (detections.py) and training dynamics (dynamics.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from repro.errors import ReproError

FIGURE_DIR = 'figures'


@dataclass
class Figure:
    name: str  # the maker's name, e.g. 'gradient_maps'
    title: str
    path: Path  # the PNG
    caption: str
    data: dict = field(default_factory=dict)  # numbers behind the figure, logged to W&B and kept in the manifest


Maker = Callable[..., 'Figure | None']
FIGURES: dict[str, Maker] = {}


def register(name: str):
    def add(maker: Maker) -> Maker:
        if name in FIGURES:
            raise ValueError(f'figure {name!r} registered twice')
        FIGURES[name] = maker
        return maker
    return add


def _load_makers() -> None:
    """Import the modules that register figure makers (kept lazy: they import torch and mmdet)."""
    # imported in the order the report shows them (a maker registers when its module is imported)
    from repro.report import gradmap  # noqa: F401
    from repro.report import quality  # noqa: F401
    from repro.report import masking  # noqa: F401
    from repro.report import ablation_plots  # noqa: F401
    from repro.report import detections  # noqa: F401
    from repro.report import dynamics  # noqa: F401


def make_figures(spec, runs, profile: str, out_dir: Path, names: list[str] | None = None
                 ) -> tuple[list[Figure], list[str]]:
    """Run every registered maker (or those named) for one table; returns the figures and notes on the ones that
    could not be made."""
    _load_makers()
    figures, notes = [], []
    for name in names or list(FIGURES):
        if name not in FIGURES:
            raise ReproError(f"unknown figure '{name}'; figures: {', '.join(FIGURES)}")
        try:
            figure = FIGURES[name](spec, runs, profile, out_dir / FIGURE_DIR)
        except ReproError as err:
            notes.append(f'{name}: not drawn: {err}')
            continue
        if figure is not None:
            figures.append(figure)
    return figures, notes
