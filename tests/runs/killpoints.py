"""`repro.train` with one fault planted at a named point, for the crash tests (tests/runs/test_crash_points.py):

    python tests/runs/killpoints.py POINT [repro.train arguments ...]

POINT is one of
  checkpoint   SIGKILL halfway through writing the second epoch's checkpoint (half its bytes on disk)
  eval         SIGKILL inside the first evaluation, while COCO eval computes the metrics
  result       SIGKILL while writing the final result.json: its temporary file written, not yet renamed
  full-disk    the final result.json write fails with ENOSPC (No space left on device)
"""
import errno
import os
import signal
import sys
from pathlib import Path


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def plant(point: str) -> None:
    if point == 'checkpoint':
        from mmengine.fileio.backends.local_backend import LocalBackend
        put = LocalBackend.put

        def half_then_die(self, obj, filepath):
            if Path(filepath).name == 'epoch_2.pth':
                Path(filepath).write_bytes(obj[:len(obj) // 2])
                die()
            return put(self, obj, filepath)
        LocalBackend.put = half_then_die
    elif point == 'eval':
        from mmdet.evaluation.metrics import CocoMetric
        CocoMetric.compute_metrics = lambda self, results: die()
    elif point == 'result':
        replace = os.replace

        def die_before_renaming_the_result(src, dst):
            if Path(dst).name == 'result.json' and b'"done"' in Path(src).read_bytes():
                die()
            return replace(src, dst)
        os.replace = die_before_renaming_the_result
    elif point == 'full-disk':
        fsync = os.fsync

        def no_space_for_the_result(fd):
            path = Path(os.readlink(f'/proc/self/fd/{fd}'))
            if path.name.startswith('.result.json.') and b'"done"' in path.read_bytes():
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return fsync(fd)
        os.fsync = no_space_for_the_result
    else:
        raise SystemExit(f'unknown kill point {point!r}')


if __name__ == '__main__':
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    plant(sys.argv[1])
    from repro.cli import run_cli
    from repro.train import main
    run_cli(lambda: main(sys.argv[2:]))
