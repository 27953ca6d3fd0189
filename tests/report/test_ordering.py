"""Ordering statistics against hand computations: ranks with ties, Spearman's rho, flipped pairs."""
import pytest

from repro.report.tables.ordering import flips, ordering, ranks, spearman
from repro.report.tables.results import RowResult
from repro.tables.spec import Row, Run

# CrossKD Table 1's published AP of layers 0..3, and made-up reproduced numbers in which layers 1 and 2 swap.
PUBLISHED = [38.2, 38.3, 38.6, 38.7]
OURS = [20.1, 20.6, 20.4, 21.0]


def test_ranks_share_the_mean_rank_of_ties():
    assert ranks([38.2, 38.3, 38.6, 38.7, 38.2]) == [1.5, 3, 4, 5, 1.5]
    assert ranks([1, 2, 2, 3, 0]) == [2, 3.5, 3.5, 5, 1]
    assert ranks([5.0]) == [1]


def test_spearman_without_ties_is_one_minus_six_sum_d_squared():
    # ranks 1 2 3 4 vs 1 3 2 4: d = 0 -1 1 0, sum d^2 = 2, rho = 1 - 6 * 2 / (4 * (16 - 1)) = 0.8
    assert spearman(PUBLISHED, OURS) == pytest.approx(0.8)
    assert spearman(PUBLISHED, [-v for v in OURS]) == pytest.approx(-0.8)
    assert spearman(PUBLISHED, PUBLISHED) == pytest.approx(1.0)


def test_spearman_with_ties_is_pearson_of_mean_ranks():
    # ranks [1.5, 3, 4, 5, 1.5] and [2, 3.5, 3.5, 5, 1], both of mean 3; deviations
    # [-1.5, 0, 1, 2, -1.5] and [-1, .5, .5, 2, -2]: sxy = 1.5 + 0 + .5 + 4 + 3 = 9, sxx = syy = 9.5
    assert spearman([38.2, 38.3, 38.6, 38.7, 38.2], [1, 2, 2, 3, 0]) == pytest.approx(9 / 9.5)


def test_spearman_is_undefined_for_one_row_or_a_constant_side():
    assert spearman([1.0], [2.0]) is None
    assert spearman([1.0, 2.0, 3.0], [0.1, 0.1, 0.1]) is None


def test_flips_are_strict_reversals_of_pairs_the_paper_orders():
    items = list(zip(['l0', 'l1', 'l2', 'l3'], PUBLISHED, OURS))
    found, pairs = flips(items)
    assert pairs == 6
    assert [(f.a, f.b, f.published, f.ours) for f in found] == [('l2', 'l1', (38.6, 38.3), (20.4, 20.6))]
    # tied in the paper: no pair; tied here: not a flip
    found, pairs = flips([('a', 38.2, 1.0), ('b', 38.2, 2.0), ('c', 38.6, 2.0)])
    assert pairs == 2 and found == []


def test_flips_of_a_grouped_table_compare_rows_within_a_group_only():
    # FCOS rows (40.7, 42.5) keep their order; GFL's (41.0, 43.0) flip; FCOS 42.5 vs GFL 41.0 reversed here
    # (20 < 21) is no flip: the paper orders methods within a detector
    items = [('fcos_a', 40.7, 19.0), ('fcos_b', 42.5, 20.0), ('gfl_a', 41.0, 22.0), ('gfl_b', 43.0, 21.0)]
    groups = {'fcos_a': 'FCOS', 'fcos_b': 'FCOS', 'gfl_a': 'GFL', 'gfl_b': 'GFL'}
    found, pairs = flips(items, groups)
    assert pairs == 2 and [(f.a, f.b) for f in found] == [('gfl_b', 'gfl_a')]
    assert flips(items)[1] == 6


def _result(id_, role, published, values):
    row = Row(id=id_, label=id_.upper(), role=role, run=Run('configs/detectors/gfl_r50.py'),
              published={'AP': published})
    return RowResult(row, [], {'AP': values} if values else {})


def test_ordering_uses_distilled_rows_with_both_numbers_and_seed_means():
    results = [_result('teacher', 'teacher', 40.2, [30.0]),  # not a distilled row
               _result('l0', 'distilled', 38.2, [20.0, 20.2]),  # mean 20.1
               _result('l1', 'distilled', 38.3, [20.6]),
               _result('l2', 'distilled', 38.6, [20.4]),
               _result('l3', 'distilled', 38.7, [21.0]),
               _result('ld', 'distilled', 37.8, []),  # not run
               _result('new', 'distilled', None, [25.0])]  # no published number
    order = ordering(results, 'AP')
    assert order.rows == ['l0', 'l1', 'l2', 'l3']
    assert order.rho == pytest.approx(0.8) and order.pairs == 6 and order.holds is False
    assert order.flips_of('l1') == ['l2'] and order.flips_of('l3') == []
    assert ordering(results[:2], 'AP').holds is None  # one row: nothing to compare
