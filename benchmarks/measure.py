"""Timing, memory and host-sync measurement of benchmark variants (benchmarks/variants.py).

- Time: every variant once per round, rounds repeated, the order rotated each round (interleaved, so drift and
  other load hit all variants alike); warm-up rounds are dropped; medians are taken by the caller.
- Memory: each step's peak above the memory in use when it starts, plus the variant's resident tensors
  (parameters, buffers and optimizer state of the models it uses, counted from the tensors themselves).
  CUDA: torch.cuda.max_memory_allocated after reset_peak_memory_stats. CPU: the process's resident set high-water
  mark, reset before each step (Linux: `5` into /proc/self/clear_refs, after glibc's malloc_trim returns freed
  heap pages), read from VmHWM in /proc/self/status; elsewhere getrusage's ru_maxrss, which cannot be reset, so
  a step shows only growth past every earlier step.
- Host syncs: one step per variant under a dispatch mode that counts the aten ops that make the host wait for
  the device (`.item()`, `bool(t)`, `nonzero`, boolean-mask indexing, blocking copies between host and device)
  and where in the source they come from. On CPU every such op counts, and so does each tensor made from Python
  data (`torch.tensor`, `new_tensor`: a blocking host-to-device copy on a GPU); on CUDA only those that touch a CUDA
  tensor, so CPU counts are an upper bound (a scalar read from a tensor that stays on the host costs nothing).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import resource
import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import torch
from torch.utils._python_dispatch import TorchDispatchMode

# aten ops whose result the host must read from a CUDA device before it can go on
SYNC_OPS = {'_local_scalar_dense', 'nonzero', 'masked_select', 'unique', '_unique', '_unique2', 'unique_dim',
            'unique_consecutive', 'equal', 'is_nonzero', 'repeat_interleave'}
SOURCE_ROOTS = ('repro', 'mmdet', 'mmengine', 'mmcv')
BENCH_DIR = str(Path(__file__).resolve().parent)


class CudaMemory:
    name = 'torch.cuda.max_memory_allocated - memory_allocated at step start'

    def start(self) -> None:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        self.base = torch.cuda.memory_allocated()

    def peak(self) -> int:
        return torch.cuda.max_memory_allocated() - self.base


class ProcRss:
    name = 'RSS high-water mark (VmHWM, reset through /proc/self/clear_refs after malloc_trim) - RSS at step start'

    def __init__(self):
        libc = ctypes.util.find_library('c')
        self.trim = getattr(ctypes.CDLL(libc), 'malloc_trim', None) if libc else None

    @staticmethod
    def usable() -> bool:
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            return 'VmHWM' in Path('/proc/self/status').read_text()
        except OSError:
            return False

    @staticmethod
    def _status(key: str) -> int:
        for line in Path('/proc/self/status').read_text().splitlines():
            if line.startswith(key + ':'):
                return int(line.split()[1]) * 1024
        raise KeyError(key)

    def start(self) -> None:
        if self.trim:
            self.trim(0)
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
        self.base = self._status('VmRSS')

    def peak(self) -> int:
        return max(self._status('VmHWM') - self.base, 0)


class Rusage:
    name = 'getrusage ru_maxrss growth over the step (a process-wide high-water mark that cannot be reset)'
    unit = 1 if sys.platform == 'darwin' else 1024  # bytes on macOS, KiB on Linux

    def start(self) -> None:
        self.base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def peak(self) -> int:
        return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - self.base) * self.unit


def memory_probe(device: str):
    if device == 'cuda':
        return CudaMemory()
    return ProcRss() if ProcRss.usable() else Rusage()


def synchronize(device: str) -> None:
    if device == 'cuda':
        torch.cuda.synchronize()


def interleaved(variants: list, warmup: int, steps: int, device: str, probe, progress=None) -> None:
    """Run warmup + steps rounds over all variants, rotating the order each round; record the measured rounds'
    wall times (ms) and step memory peaks (bytes) in each variant."""
    for r in range(warmup + steps):
        shift = r % len(variants)
        for v in variants[shift:] + variants[:shift]:
            probe.start()
            synchronize(device)
            t0 = time.perf_counter()
            v.run()
            synchronize(device)
            elapsed = (time.perf_counter() - t0) * 1e3
            if r >= warmup:
                v.times_ms.append(elapsed)
                v.step_peaks.append(probe.peak())
        if progress:
            progress(r + 1, warmup + steps)


def resident_bytes(modules: list, optimizer=None) -> int:
    """Bytes of the distinct tensors that stay allocated between steps: parameters, buffers, optimizer state."""
    seen, total = set(), 0
    tensors = [t for m in modules if m is not None for t in (*m.parameters(), *m.buffers())]
    opt = getattr(optimizer, 'optimizer', optimizer)
    if opt is not None:
        tensors += [t for state in opt.state.values() for t in state.values() if torch.is_tensor(t)]
    for t in tensors:
        key = (t.device, t.data_ptr())
        if key not in seen:
            seen.add(key)
            total += t.numel() * t.element_size()
    return total


def _site(op: str) -> str:
    """The innermost frame of repro / mmdet / mmengine / mmcv / benchmark code on the stack, as
    'package/path.py:line function [op]'."""
    for frame in reversed(traceback.extract_stack()[:-3]):
        parts = Path(frame.filename).parts
        if frame.filename.startswith(BENCH_DIR):
            return f'benchmarks/{parts[-1]}:{frame.lineno} {frame.name} [{op}]'
        hits = [i for i, part in enumerate(parts) if part in SOURCE_ROOTS]
        if hits:
            return f"{'/'.join(parts[hits[-1]:])}:{frame.lineno} {frame.name} [{op}]"
    return f'other [{op}]'


class SyncCounter(TorchDispatchMode):
    """Counts the ops that synchronise host and device, with their call sites. On a CPU run every such op
    is counted (each would wait for the GPU); on CUDA only those with a CUDA tensor argument."""

    def __init__(self, device: str):
        super().__init__()
        self.device, self.sites = device, Counter()

    def _syncs(self, name: str, args) -> bool:
        tensors = [a for a in _flat(args) if torch.is_tensor(a)]
        if self.device == 'cpu' and name == 'lift_fresh':  # a tensor from Python data: a host->device copy on GPU
            return True
        if self.device == 'cuda' and not any(t.is_cuda for t in tensors):
            return False
        if name in SYNC_OPS:
            return True
        if name == 'index' or name == 'index_put_' or name == 'index_put':  # boolean masks call nonzero inside
            return any(t.dtype in (torch.bool, torch.uint8) for t in _flat(args[1:]) if torch.is_tensor(t))
        return False

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func._schema.name.split('::')[-1]
        out = func(*args, **(kwargs or {}))
        if self._syncs(name, args) or (self.device == 'cuda' and name in ('_to_copy', 'copy_')
                                       and _crosses_devices(args, kwargs, out)):
            self.sites[_site(name)] += 1
        return out


def _crosses_devices(args, kwargs, out) -> bool:
    """A copy between host and device (torch waits for it unless non_blocking)."""
    if (kwargs or {}).get('non_blocking'):
        return False
    devices = {t.device.type for t in _flat([*args, out]) if torch.is_tensor(t)}
    return {'cpu', 'cuda'} <= devices


def _flat(items):
    for item in items:
        if isinstance(item, (list, tuple)):
            yield from _flat(item)
        else:
            yield item


def count_syncs(run, device: str) -> Counter:
    """Host-sync ops of one call of `run`, by call site."""
    counter = SyncCounter(device)
    with counter:
        run()
    synchronize(device)
    return counter.sites


def environment(device: str) -> dict:
    from repro.training.provenance import git_commit, hardware, package_versions
    info = {'hardware': hardware(), 'packages': package_versions(), 'git_commit': git_commit(),
            'omp_num_threads': os.environ.get('OMP_NUM_THREADS'), 'load_average': os.getloadavg()}
    if device == 'cuda':
        info['cuda'] = torch.version.cuda
        info['tf32'] = {'matmul': torch.backends.cuda.matmul.allow_tf32, 'cudnn': torch.backends.cudnn.allow_tf32}
        info['cudnn_benchmark'] = torch.backends.cudnn.benchmark
    return info
