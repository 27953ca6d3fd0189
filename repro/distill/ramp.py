"""Linear warm-ups of KD weights: a weight that grows from 0 to its full value over a run's first iterations."""
from __future__ import annotations


def current_iter() -> int:
    """The training loop's iteration, from 0 (mmengine's message hub; 0 outside a Runner), so resuming keeps a ramp."""
    from mmengine.logging import MessageHub
    return int(MessageHub.get_current_instance().get_info('iter', 0) or 0)


def linear_ramp(iters: int, offset: int = 0) -> float:
    """min(1, (iteration + offset) / iters), or 1 without a warm-up (iters 0). offset 0: the weight is 0 at the
    first iteration (FRS's `distill_warm_step`: iteration / 500); HEAD's assistant counts from offset 1."""
    return min(1.0, (current_iter() + offset) / iters) if iters > 0 else 1.0
