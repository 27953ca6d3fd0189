"""What every CLI shares: quiet third-party warnings, and one line instead of a traceback for user errors."""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import signal
import sys
import warnings
from typing import Callable

from repro.errors import ReproError


def quiet_warnings() -> None:
    """Silence deprecation chatter from the pinned stack (pkg_resources, torch.meshgrid, ...)."""
    for category in (DeprecationWarning, UserWarning, FutureWarning):
        warnings.filterwarnings('ignore', category=category)


@contextlib.contextmanager
def quiet_mmengine(stdout: bool = True):
    """Silence mmengine's INFO lines (init reports, CocoMetric's summaries) and, with `stdout`, plain prints
    (pycocotools') inside the block."""
    import logging

    from mmengine.logging import MMLogger
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        with contextlib.redirect_stdout(io.StringIO()) if stdout else contextlib.nullcontext():
            yield
    finally:
        logger.setLevel(level)


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, with a bad argument reported in one line like every other user error (`error: ...`, exit
    status 2 under run_cli) instead of the usage text and then the error."""

    def error(self, message):
        raise ReproError(f'{message} (see {self.prog} --help)')


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a scheduler stopping the job) handled like Ctrl-C: records say why, locks are released,
    W&B runs are closed, child processes are stopped. (Slurm jobs run under submitit, which handles its own
    signals and requeues on preemption.)"""


_terminated = False  # set by the SIGTERM handler, for as_stop


def _terminate(signum, frame):
    global _terminated
    _terminated = True
    # PyTorch's SIGCHLD handler raises for each DataLoader worker the same signal killed, even from the finalisers
    # at exit; we are stopping anyway. A Python no-op, not SIG_DFL: a SIGCHLD already pending when the handler
    # changes would find SIG_DFL and CPython would print 'OSError: Signal 17 ignored due to race condition'.
    signal.signal(signal.SIGCHLD, _ignore)
    raise Terminated('stopped by SIGTERM')


def _ignore(signum, frame) -> None:
    pass


def as_stop(err: BaseException) -> BaseException:
    """The exception to raise for `err`: Terminated when a SIGTERM has arrived but another error came out, so callers
    unwind (and record) a stop, not a failure; else `err` itself. That is a race, not a failure: SIGTERM sent to the
    whole process group (`kill -- -PGID`, a service manager) also kills the DataLoader workers, and PyTorch's
    SIGCHLD handler can raise 'DataLoader worker ... is killed by signal: Terminated' in place of Terminated."""
    if _terminated and not isinstance(err, (KeyboardInterrupt, SystemExit)):
        stop = Terminated('stopped by SIGTERM')
        stop.__cause__ = err
        return stop
    return err


def run_cli(main: Callable[[], None]) -> None:
    quiet_warnings()
    signal.signal(signal.SIGTERM, _terminate)
    try:
        main()
        sys.stdout.flush()  # here, where a reader gone away is handled, not at exit
    except ReproError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    except BrokenPipeError:  # the reader went away (`... | head`): what it did not read is nobody's loss
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when Python flushes
        sys.exit(1)
    except OSError as err:  # a file or folder the user named or set up: say which and why, not where in our code
        if not err.filename:
            raise
        print(f'error: {err.filename}: {err.strerror or err}', file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt as err:
        what = 'stopped by SIGTERM' if isinstance(err, Terminated) else 'interrupted'
        print(f'{what}; rerun the same command to resume from the last checkpoint', file=sys.stderr)
        sys.exit(130)


TRUST_TEACHER_ENV = 'REPRO_TRUST_TEACHER'  # distil even from a teacher whose measured AP looks broken
WANDB_FLAGS = (('--wandb-entity', 'WANDB_ENTITY', 'W&B entity (team or user) to log to'),
               ('--wandb-name', 'WANDB_NAME', 'W&B run name (default: <config>-<run key>)'),
               ('--wandb-tags', 'WANDB_TAGS', 'extra W&B tags, comma-separated'))


def add_wandb_flags(parser) -> None:
    """--wandb-entity, --wandb-name and --wandb-tags: each sets the W&B variable it names (set_env_flags)."""
    for flag, var, text in WANDB_FLAGS:
        parser.add_argument(flag, metavar=var.removeprefix('WANDB_'), help=f'{text} (sets ${var})')


def set_env_flags(args) -> None:
    """Put the parsed flags that the runs' processes read from the environment there: --wandb-entity, --wandb-name
    and --wandb-tags (W&B's own variables) and --trust-teacher (repro/runs/lifecycle.py)."""
    for flag, var, _ in WANDB_FLAGS:
        value = getattr(args, flag.removeprefix('--').replace('-', '_'), None)
        if value is not None:
            os.environ[var] = value
    if getattr(args, 'trust_teacher', False):
        os.environ[TRUST_TEACHER_ENV] = '1'
