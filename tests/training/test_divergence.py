"""The divergence guard: a non-finite loss term stops at its iteration, non-finite weights at the epoch's end."""
from types import SimpleNamespace

import pytest
import torch
from torch import nn

from repro.errors import Diverged
from repro.training.divergence import DivergenceGuard


def runner_with(model, epoch=0, iteration=5):
    return SimpleNamespace(model=model, epoch=epoch, iter=iteration)


def test_a_non_finite_loss_term_is_named():
    outputs = {'loss_cls': torch.tensor(0.5), 'loss_kd_cls': torch.tensor(float('inf')), 'acc': torch.tensor(float('nan'))}
    with pytest.raises(Diverged, match=r'iteration 6 \(epoch 1\): loss_kd_cls=inf;'):
        DivergenceGuard().after_train_iter(runner_with(nn.Linear(2, 2)), 0, outputs=outputs)


def test_finite_weights_pass_the_epoch_check():
    DivergenceGuard().after_train_epoch(runner_with(nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))))


@pytest.mark.parametrize('where', ['0.weight', '1.running_var'])
def test_non_finite_weights_or_buffers_stop_at_the_epoch_end(where):
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    with torch.no_grad():
        dict(model.named_parameters(), **dict(model.named_buffers()))[where][0] = float('nan')
    with pytest.raises(Diverged, match=rf'epoch 3: after iteration 5, 1 weight tensors are not finite \(the first: '
                                       rf'{where}\)'):
        DivergenceGuard().after_train_epoch(runner_with(model, epoch=2))
