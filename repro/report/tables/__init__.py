"""A report's table: the runs' results over seeds (results.py), the claims' verdicts (claims.py), the rows' order
(ordering.py), the report's frames, notes and provenance, and its renderers (render.py, page.py, wandb_run.py)."""
