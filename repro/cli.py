"""What every CLI shares: quiet third-party warnings, and one line instead of a traceback for user errors."""
from __future__ import annotations

import sys
import warnings
from typing import Callable

from repro.errors import ReproError


def quiet_warnings() -> None:
    """Silence deprecation chatter from the pinned stack (pkg_resources, torch.meshgrid, ...)."""
    for category in (DeprecationWarning, UserWarning, FutureWarning):
        warnings.filterwarnings('ignore', category=category)


def run_cli(main: Callable[[], None]) -> None:
    quiet_warnings()
    try:
        main()
    except ReproError as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print('interrupted; rerun the same command to resume from the last checkpoint', file=sys.stderr)
        sys.exit(130)
