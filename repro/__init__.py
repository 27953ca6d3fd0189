"""repro: a reproducibility harness for knowledge distillation of dense object detectors."""
__version__ = '0.1.0'
