"""Stage 1, tables: the papers' tables as data: spec schema and loader (spec.py), the claims (claims.py), the listing
(listing.py), and the specs themselves in specs/*.yaml."""
from repro.tables.spec import Row, Run, TableSpec, load_all, load_spec, missing_configs, resolve

__all__ = ['Row', 'Run', 'TableSpec', 'load_all', 'load_spec', 'missing_configs', 'resolve']
