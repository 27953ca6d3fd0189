"""repro: a reproducibility harness for knowledge distillation of dense object detectors."""
import os

__version__ = '0.1.0'

# CPU kernels capped at AVX2, before torch picks them (it reads these once, at its first CPU op; every entry point
# imports this package first): ATen's and oneDNN's AVX-512 kernels sum in another order, so the same run key gave
# other numbers on an AVX-512 machine (GFL R50 seed 0 of the tiny profile: 15.8 AP natively, 16.2 capped, as its
# record made on an AVX2-only machine says). Set either variable to choose otherwise; records hold the capability
# a run used (determinism.cpu_capability).
os.environ.setdefault('ATEN_CPU_CAPABILITY', 'avx2')
os.environ.setdefault('ONEDNN_MAX_CPU_ISA', 'AVX2')
