"""Loss scale as a regression test: each KD term's ratio to the detection loss at initialisation stays within 2x of the
value FIDELITY.md records (tests/distill/loss_scale.py makes and rewrites the record)."""
import pytest
from loss_scale import loss_ratios, recorded
from test_method_training import METHODS as ONE_CONFIG_PER_METHOD

METHODS = ONE_CONFIG_PER_METHOD


def test_the_ledger_records_every_method():
    assert sorted(recorded()) == sorted(METHODS)


@pytest.mark.parametrize('method', METHODS)
def test_kd_loss_scale_stays_within_2x_of_the_record(method):
    _, ratios = loss_ratios(method)
    expected = recorded()[method]
    assert sorted(ratios) == sorted(expected), f'{method}: KD terms {sorted(ratios)}, recorded {sorted(expected)}'
    for term, ratio in ratios.items():
        low, high = sorted((expected[term] / 2, expected[term] * 2))
        assert low <= ratio <= high, f'{method} {term}: KD / detection = {ratio:.4g}, recorded {expected[term]:.4g}'
