"""Whether the paper's ordering of methods holds: Spearman's rank correlation between published and reproduced
numbers over a table's distilled rows, and the pairs of rows whose order flips.

Under the tiny profile absolute numbers say nothing about COCO, but a method that beats another in the paper
should still beat it here; this is what the tiny profile can judge.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from repro.report.tables.results import RowResult


@dataclass(frozen=True)
class Flip:
    """Rows a and b, ordered one way in the paper (published a > b) and the other way here (ours a < b)."""
    a: str
    b: str
    published: tuple[float, float]
    ours: tuple[float, float]


@dataclass
class Ordering:
    metric: str
    rows: list[str]  # row ids compared: distilled rows with a published and a reproduced number
    rho: float | None  # None with fewer than two rows, or where either side has all values equal
    flips: list[Flip]
    pairs: int  # pairs (within a row group) whose published numbers differ: those that can flip

    @property
    def holds(self) -> bool | None:
        """Whether no pair flips; None when there is nothing to compare."""
        return None if self.pairs == 0 else not self.flips

    def flips_of(self, row_id: str) -> list[str]:
        """The rows whose order against `row_id` flips."""
        return [f.b if f.a == row_id else f.a for f in self.flips if row_id in (f.a, f.b)]


def ranks(values: list[float]) -> list[float]:
    """1-based ranks, ascending; tied values share the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for i in order[start:end + 1]:
            out[i] = (start + end) / 2 + 1
        start = end + 1
    return out


def spearman(x: list[float], y: list[float]) -> float | None:
    """Spearman's rho: Pearson's correlation of the two rank vectors (ties at mean ranks). None when undefined."""
    if len(x) != len(y):
        raise ValueError('spearman needs two lists of the same length')
    if len(x) < 2:
        return None
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx, syy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def flips(items: list[tuple[str, float, float]], groups: dict[str, str | None] | None = None
          ) -> tuple[list[Flip], int]:
    """Pairs (id, published, ours) ordered one way in the paper and strictly the other way here. A pair tied in
    the paper cannot flip; one tied here is not a flip either. With `groups` (row id -> the row group of a
    grouped table, e.g. the detector), only rows of one group are compared: the paper orders methods within a
    detector. Returns the flips and the number of comparable pairs."""
    groups = groups or {}
    out, pairs = [], 0
    for (ia, pa, oa), (ib, pb, ob) in itertools.combinations(items, 2):
        if pa == pb or groups.get(ia) != groups.get(ib):
            continue
        pairs += 1
        if pa < pb:
            (ia, pa, oa), (ib, pb, ob) = (ib, pb, ob), (ia, pa, oa)
        if oa < ob:
            out.append(Flip(ia, ib, (pa, pb), (oa, ob)))
    return out, pairs


def ordering(results: list[RowResult], metric: str, roles: tuple[str, ...] = ('distilled',)) -> Ordering:
    """The ordering statistics of the rows with `roles` that have both a published and a reproduced `metric`:
    Spearman's rho over all of them, flips within each row group."""
    items = [(r.row.id, r.row.published[metric], r.mean(metric)) for r in results
             if r.row.role in roles and r.row.published.get(metric) is not None and r.mean(metric) is not None]
    found, pairs = flips(items, {r.row.id: r.row.group for r in results})
    rho = spearman([p for _, p, _ in items], [o for _, _, o in items])
    return Ordering(metric, [i for i, _, _ in items], rho, found, pairs)
