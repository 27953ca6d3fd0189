"""Stop a diverging run at once: a NaN or infinite loss ends training with the iteration and the loss terms, and
weights that are no longer finite end it at the epoch's end, before its checkpoint and the training-dynamics pass.

mmdet's CheckInvalidLossHook looks at the total loss every 50 iterations and raises a bare AssertionError; a
reproduction campaign needs the first bad iteration and which terms went bad (a KD term blowing up reads very
differently from the detection loss doing so). The run's record then says `failed` with that reason
(repro.train), and the rest of the table goes on.
"""
from __future__ import annotations

import itertools
import math

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from repro.errors import REMEDY, Diverged


class DivergenceGuard(Hook):
    """Checks every logged loss term after each training iteration (mmengine reads them for logging anyway)."""

    priority = 'HIGH'  # before the checkpoint hook could save a model with non-finite weights

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        bad = {}
        for name, value in (outputs or {}).items():
            if 'loss' not in name:
                continue
            number = float(value.detach().float().mean()) if hasattr(value, 'detach') else float(value)
            if not math.isfinite(number):
                bad[name] = number
        if bad:
            terms = ', '.join(f'{name}={value}' for name, value in bad.items())
            raise Diverged(f'training diverged at iteration {runner.iter + 1} (epoch {runner.epoch + 1}): {terms}; '
                           + REMEDY)

    def after_train_epoch(self, runner) -> None:
        """A finite loss can still take a step that leaves weights NaN or infinite (a loss of 1e7 at a small learning
        rate did, from the smoke's stand-in weights); the next iteration's loss would say so, but after an epoch's
        last one the checkpoint and the dynamics pass (priority LOW) would meet them first."""
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        bad = [name for name, t in itertools.chain(model.named_parameters(), model.named_buffers())
               if t.is_floating_point() and not bool(torch.isfinite(t).all())]
        if bad:
            raise Diverged(f'training diverged in epoch {runner.epoch + 1}: after iteration {runner.iter}, '
                           f'{len(bad)} weight tensors are not finite (the first: {bad[0]}) though every logged loss '
                           f'was; {REMEDY}')
