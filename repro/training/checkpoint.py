"""Loading checkpoints on torch>=2.6 without switching off `weights_only`.

mmengine 0.10.7 calls `torch.load` with torch's default `weights_only=True`, which rejects the few non-tensor
globals that its own Runner pickles into a checkpoint's `meta`: the message hub's `HistoryBuffer` (with numpy
arrays and scalars inside), and `getattr(HistoryBuffer, 'min')`-style references to its statistics methods.
`allow_mmengine_checkpoints` allows exactly those. `builtins.getattr` is not allowed as such (with it a pickle
could reach any attribute, `__globals__` included): the name is bound to `_history_buffer_getattr`, which only
resolves HistoryBuffer's own statistics methods. Every other global still makes loading fail.
"""
from __future__ import annotations

from pathlib import Path

from repro.errors import ReproError

_registered = False


def _history_buffer_getattr(obj, name: str):
    from mmengine.logging.history_buffer import HistoryBuffer
    import pickle
    allowed = {'min', 'max', 'mean', 'current', *HistoryBuffer._statistics_methods}  # filled lazily by __init__
    if obj is HistoryBuffer and name in allowed:
        return getattr(obj, name)
    raise pickle.UnpicklingError(f'refusing getattr({obj!r}, {name!r}) while loading a checkpoint')


def allow_mmengine_checkpoints() -> None:
    """Let `torch.load(weights_only=True)` read the checkpoints mmengine's Runner writes. Idempotent."""
    global _registered
    if _registered:
        return
    import numpy as np
    import torch
    from mmengine.logging.history_buffer import HistoryBuffer
    multiarray = getattr(getattr(np, '_core', None), 'multiarray', None) or np.core.multiarray  # numpy 2 | 1.x
    torch.serialization.add_safe_globals([
        HistoryBuffer, np.ndarray, np.dtype, multiarray.scalar, multiarray._reconstruct,
        (_history_buffer_getattr, 'builtins.getattr'),
        *{type(np.dtype(t)) for t in (np.float64, np.float32, np.int64, np.int32, np.bool_)},
    ])
    _registered = True


def load_checkpoint_file(path: str | Path) -> dict:
    """Read a checkpoint with `weights_only=True`, turning every way it can be broken into one clear line."""
    import pickle
    import zipfile

    import torch
    allow_mmengine_checkpoints()
    path = Path(path)
    if not path.is_file():
        raise ReproError(f'checkpoint not found: {path}; check the path, or train the teacher first')
    try:
        ckpt = torch.load(path, map_location='cpu', weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, OSError, ValueError) as err:
        detail = str(err).strip().splitlines()[0][:200] if str(err).strip() else type(err).__name__
        raise ReproError(f'checkpoint {path} cannot be read (truncated, corrupt or not a torch checkpoint: '
                         f'{detail}); download or train it again') from err
    if not isinstance(ckpt, dict):
        raise ReproError(f'checkpoint {path} holds a {type(ckpt).__name__}, not a dict of weights')
    return ckpt
