"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Files get the mode the umask gives a new file (0644 under the usual 022), as `open` would: work dirs, reports and
caches are shared between users and machines. (tempfile.mkstemp's 0600 would make them private.)
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from repro.errors import ReproError


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, fsync it, then rename it over `path`."""
    path = Path(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _new_temporary(path)
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        if tmp:
            tmp.unlink(missing_ok=True)
        raise ReproError(f'cannot write {path}: {err.strerror or err}; nothing was written. '
                         'Free disk space or choose another --work-dir') from err
    except BaseException:  # interrupted (Ctrl-C, SIGTERM): leave the old file and no temporary one
        if tmp:
            tmp.unlink(missing_ok=True)
        raise


def _new_temporary(path: Path) -> tuple[int, Path]:
    """A new file `.<name>.<random>.tmp` beside `path`, opened for writing. Created with mode 0666, which the kernel
    narrows by the umask (and a folder's default ACL), so nothing reads or changes the process's umask."""
    while True:
        tmp = path.with_name(f'.{path.name}.{secrets.token_hex(4)}.tmp')
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), tmp
        except FileExistsError:
            continue


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def atomic_write_json(path: str | Path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + '\n')
