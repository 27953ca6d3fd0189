"""The harness's own error type: a one-line message for users, printed by the CLIs without a traceback."""


class ReproError(Exception):
    """A problem the user can fix; the message names it and says what to do."""


REMEDY = 'lower the learning rate or the loss weights, or add gradient clipping'


class Diverged(ReproError):
    """A training loss, the weights or the predictions became NaN or infinite (repro.training.divergence,
    repro.distill.distances); the run's record says `failed` with the message."""
