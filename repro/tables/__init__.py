"""The papers' tables as data: spec schema and loader (spec.py), the specs themselves in specs/*.yaml."""
from repro.tables.spec import Row, Run, TableSpec, load_all, load_spec, missing_configs, resolve

__all__ = ['Row', 'Run', 'TableSpec', 'load_all', 'load_spec', 'missing_configs', 'resolve']
