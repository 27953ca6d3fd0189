"""Hypothesis fuzzing of the loaders that read what users write: table specs (load_spec), sweep files
(load_sweep_file, then W&B's schema through the sweep engine) and a sweep run's parameters (parse_args, point).
Whatever the input, the answer is a valid object or the tool's own ReproError, never another exception."""
import copy

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import REPO
from repro.errors import ReproError
from repro.sweep import load_sweep_file
from repro.plan.sweep_engine import grid
from repro.plan.sweep_points import parse_args, point
from repro.tables.spec import TableSpec, load_all, load_spec

SPECS = load_all()
VALID_SPEC = yaml.safe_load((REPO / 'repro/tables/specs/crosskd_table1.yaml').read_text())
VALID_SWEEP = load_sweep_file(REPO / 'sweeps/k_ablation.yaml')
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.floats(allow_nan=True),
                    st.text(max_size=20), st.sampled_from(['AP', 'crosskd', 'pgd', 'distilled', 'teacher', '6a',
                                                           'configs/methods/crosskd_gfl.py', 'grid', 'values']))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                      max_leaves=12)


def paths(data):
    """Every (path of keys/indices) into nested dicts and lists, the root included."""
    yield ()
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        for rest in paths(value):
            yield (key, *rest)


@st.composite
def mutated(draw, valid):
    """A valid document with one to three places replaced by random values, or deleted."""
    data = copy.deepcopy(valid)
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(list(paths(data))))
        if not where:
            return draw(values)
        parent = data
        for key in where[:-1]:
            parent = parent[key]
        if draw(st.booleans()) and isinstance(parent, dict):
            parent.pop(where[-1], None)
        else:
            parent[where[-1]] = draw(values)
    return data


def load_text(tmp_path_factory, text: str):
    path = tmp_path_factory.mktemp('spec') / 'crosskd_table1.yaml'
    path.write_text(text)
    return load_spec(path)


@FUZZ
@given(data=st.one_of(mutated(VALID_SPEC), values))
def test_any_spec_document_loads_or_gives_our_error(data, tmp_path_factory):
    try:
        spec = load_text(tmp_path_factory, yaml.safe_dump(data, allow_unicode=True))
    except ReproError as err:
        assert 'crosskd_table1.yaml' in str(err)  # the error names the file
    else:
        assert isinstance(spec, TableSpec) and spec.rows


@FUZZ
@given(text=st.text(max_size=300))
def test_any_spec_text_loads_or_gives_our_error(text, tmp_path_factory):
    try:
        load_text(tmp_path_factory, text)
    except ReproError:
        pass


@FUZZ
@given(data=st.one_of(mutated(VALID_SWEEP), values))
def test_any_sweep_document_reads_or_gives_our_error(data, tmp_path_factory):
    path = tmp_path_factory.mktemp('sweep') / 'a_sweep.yaml'
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    try:
        config = load_sweep_file(path)
    except ReproError:
        return
    assert isinstance(config['parameters'], dict)


@settings(max_examples=12, deadline=None)  # each example starts W&B's sweep engine in its own Python
@given(data=mutated(VALID_SWEEP))
@pytest.mark.slow
def test_wandbs_schema_check_of_any_sweep_gives_a_grid_or_our_error(data):
    try:
        runs = grid(data, 'a_sweep.yaml')
    except ReproError as err:
        assert 'a_sweep.yaml' in str(err) or "W&B's sweep engine" in str(err)
    else:
        assert isinstance(runs, list) and all(isinstance(r, dict) for r in runs)


tokens = st.lists(st.one_of(st.text(max_size=15), st.builds('--{}={}'.format, st.sampled_from(
    ['table', 'profile', 'k', 'alpha', 'detector', 'layer', 'x']), st.text(max_size=12))), max_size=5)
params = st.dictionaries(st.sampled_from(['table', 'profile', 'k', 'alpha', 'detector', 'layer', 'strategy']),
                         st.one_of(scalars, st.sampled_from(['pgd:table6a', 'pgd:table6b', 'crosskd:table1', 'tiny',
                                                             'coco', 'fcos', 'atss', 9, 30, 0.05, 3])), max_size=4)


@FUZZ
@given(tokens=tokens)
def test_any_agent_arguments_parse_or_give_our_error(tokens):
    try:
        parsed = parse_args(tokens)
    except ReproError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in parsed.items())


@FUZZ
@given(values=params)
def test_any_sweep_parameters_select_a_row_or_give_our_error(values):
    try:
        selected = point(values, specs=SPECS)
    except ReproError:
        return
    assert selected.row in selected.spec.rows and selected.profile in ('tiny', 'coco')
