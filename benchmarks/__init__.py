"""Speed and memory benchmarks of the harness: `python -m benchmarks.overhead` (see benchmarks/README.md)."""
