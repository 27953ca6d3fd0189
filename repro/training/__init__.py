"""Stage 4, training: one run inside mmengine's Runner (runner.py), and what the Runner is given: W&B tracking
(tracking.py), training dynamics (dynamics.py) and the divergence guard (divergence.py) as hooks; checkpoints read
under torch's weights_only (checkpoint.py) and resolved from a local cache (weights.py); provenance and determinism
(provenance.py); the papers' metrics (metrics.py); the student as a plain-mmdet pair (export.py); the real-size smoke
(smoke.py)."""
