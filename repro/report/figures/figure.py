"""What a figure maker returns: the figure it drew, where, and the numbers behind it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

FIGURE_DIR = 'figures'


@dataclass
class Figure:
    name: str  # the maker's name, e.g. 'gradient_maps'
    title: str
    path: Path  # the PNG
    caption: str
    data: dict = field(default_factory=dict)  # numbers behind the figure, logged to W&B and kept in the manifest
