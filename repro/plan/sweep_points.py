"""A sweep's point (its parameter values) as a table row: the mapping between sweeps/*.yaml and the table specs.

Every sweep has the parameters `table` (a table id, or a spec file's path) and `profile`; the others are the
ablation's and select the one row whose `params` (repro/tables/specs/*.yaml) hold the same values. A W&B agent
passes a point as `--k=30` arguments and in the file named by $WANDB_SWEEP_PARAM_PATH
(`k: {value: 30}`, after a `wandb_version: 1` line); both forms are read here.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from repro.errors import ReproError
from repro.profiles import PROFILES, default_profile
from repro.tables.spec import SWEEP_OWN_PARAMS, Row, TableSpec, param_key, resolve

PARAM_FILE_ENV = 'WANDB_SWEEP_PARAM_PATH'  # written by `wandb agent` for each run it starts
_ARG = re.compile(r'^(?:--)?([A-Za-z_][A-Za-z0-9_.]*)=(.*)$', re.S)


@dataclass(frozen=True)
class Point:
    """One run of a sweep: the table row it is, under a profile."""
    spec: TableSpec
    profile: str
    row: Row

    @property
    def narrowed(self) -> TableSpec:
        """The table with this row alone, for repro.plan.dag.plan (its run key and work dir are the full table's)."""
        return replace(self.spec, rows=(self.row,))

    @property
    def label(self) -> str:
        return ' '.join(f'{k}={v}' for k, v in self.row.params.items())


def parse_args(tokens: list[str]) -> dict[str, str]:
    """The agent's `--k=30` (or `k=30`) arguments as {'k': '30'}: values stay text, compared by param_key."""
    params = {}
    for token in tokens:
        match = _ARG.match(token)
        if not match:
            raise ReproError(f"unexpected argument '{token}': a sweep run takes parameters as --name=value "
                             '(what `wandb agent` passes), e.g. --table=pgd:table6a --profile=tiny --k=30')
        name, value = match.groups()
        if name in params and params[name] != value:
            raise ReproError(f"parameter '{name}' given twice ({params[name]} and {value})")
        params[name] = value
    return params


def read_param_file(path: str | Path) -> dict:
    """The parameters of a W&B agent's parameter file ({'k': {'value': 30}, ...} -> {'k': 30})."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as err:
        raise ReproError(f'cannot read the sweep parameter file {path} (${PARAM_FILE_ENV}): {err}') from err
    if not isinstance(data, dict):
        raise ReproError(f'{path} (${PARAM_FILE_ENV}) is not a mapping of parameters')
    data.pop('wandb_version', None)
    return {name: item['value'] if isinstance(item, dict) and 'value' in item else item
            for name, item in data.items()}


def agent_params(tokens: list[str]) -> dict:
    """A sweep run's parameters: the arguments, and the agent's parameter file when $WANDB_SWEEP_PARAM_PATH names
    one; where both give a parameter they must agree."""
    params = parse_args(tokens)
    path = os.environ.get(PARAM_FILE_ENV)
    if not path:
        return params
    from_file = read_param_file(path)
    for name, value in params.items():
        if name in from_file and param_key(from_file[name]) != param_key(value):
            raise ReproError(f"parameter '{name}' is {value} in the arguments but {from_file[name]} in {path} "
                             f'(${PARAM_FILE_ENV}); unset {PARAM_FILE_ENV} outside a W&B agent')
    return {**from_file, **params}


def sweep_params(spec: TableSpec) -> dict[str, list]:
    """The ablation's parameters of a table and the values its rows take, in table order."""
    values: dict[str, list] = {}
    for row in spec.rows:
        for name, value in (row.params or {}).items():
            if value not in values.setdefault(name, []):
                values[name].append(value)
    return values


def point(params: dict, data_root: str | None = None, specs: dict | None = None) -> Point:
    """The table row a sweep's parameter values select; an unknown table, profile, parameter or value is an error
    that lists the valid ones."""
    if 'table' not in params:
        raise ReproError("a sweep run needs the parameter 'table' (e.g. --table=pgd:table6a), as every "
                         'sweeps/*.yaml gives it')
    spec, _ = resolve(str(params['table']), specs)
    profile = str(params.get('profile') or default_profile(data_root))
    if profile not in PROFILES:
        raise ReproError(f"unknown profile '{profile}': choose one of {', '.join(PROFILES)}")
    own = {k: v for k, v in params.items() if k not in SWEEP_OWN_PARAMS}
    allowed = sweep_params(spec)
    if not allowed:
        raise ReproError(f'{spec.id} has no sweep parameters: no row of {spec.path.name} has `params`')
    unknown, missing = sorted(set(own) - set(allowed)), sorted(set(allowed) - set(own))
    if unknown or missing:
        problem = f"unknown parameter(s) {', '.join(unknown)}" if unknown else \
            f"missing parameter(s) {', '.join(missing)}"
        raise ReproError(f'{spec.id}: {problem}; its sweep parameters are {_choices(allowed)}')
    for row in spec.rows:
        if row.params and all(param_key(row.params[k]) == param_key(own[k]) for k in allowed):
            return Point(spec, profile, row)
    given = ', '.join(f'{k}={own[k]}' for k in allowed)
    raise ReproError(f'{spec.id} has no row with {given}; its rows have {_choices(allowed)}')


def _choices(allowed: dict[str, list]) -> str:
    return '; '.join(f"{name} in {{{', '.join(map(str, values))}}}" for name, values in allowed.items())
