"""Table specs: the papers' tables as data (repro/tables/specs/<paper>_<table>.yaml), loaded and validated.

A spec names its paper and table number, the metric columns and the rows. Each row says which run it needs (a
config under configs/ plus `key=value` overrides, the syntax of repro.plan.compile.apply_overrides) and the
paper's published numbers, one per metric column, a printed "—" being null. `defaults.overrides` are prepended
to the overrides of every row whose role is in `defaults.roles` (all roles unless given); a row's own override
of the same key wins; `defaults: <name>` takes a block several specs share from SHARED_DEFAULTS. `claims`
states what the paper says about the table, each claim naming its rows and the sentence or cells it comes from
(repro.tables.claims). The loader is strict: an unknown or missing field, a wrong type or a duplicate key is an
error naming the file and the field. Whether the configs exist is checked separately (`missing_configs`), so
specs may name configs that are still being written.
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from repro.errors import ReproError
from repro.runs.atomic import atomic_write_json
from repro.profiles import REPO_ROOT, cache_root
from repro.tables.claims import Claim, parse_claims

SPEC_DIR = Path(__file__).resolve().parent / 'specs'
PAPERS = {'crosskd': 'CrossKD', 'pgd': 'PGD', 'rm': 'Rank Mimicking', 'ext': 'Beyond the papers'}
DEFAULT_PAPER = 'crosskd'  # a bare `table5` is CrossKD's
COMPARE = 'compare'  # the 'paper' of repro.compare's tables: a dataset of one's own, named by its `dataset` field
_COMPARE_NAME = re.compile(r'^[a-z0-9][a-z0-9_]*$')  # repro.compare's --name
ROLES = ('teacher', 'student', 'distilled')
METRICS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl', 'MR', 'JI')
CONFIG_VALUED_KEYS = ('teacher.config',)  # overrides whose value is a config path, checked with the row's config
_OVERRIDE_KEY = re.compile(r'^\+?[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$')
_ROW_ID = re.compile(r'^[a-z0-9][a-z0-9_]*$')
_NUMBER = re.compile(r'^[0-9]+[a-z]?$')
_NAME = re.compile(r'^[a-z][a-z_]*$')  # a named table: 'headline' (RM's), 'modern' (ext's)
_PARAM_NAME = re.compile(r'^[a-z][a-z0-9_]*$')
SWEEP_OWN_PARAMS = ('table', 'profile')  # a sweep's parameters that are not a row's (repro.sweep)

_TABLE_FIELDS = dict(required=('version', 'paper', 'number', 'title', 'description', 'metrics', 'rows'),
                     optional=('defaults', 'label_header', 'claims', 'dataset'))
_ROW_FIELDS = dict(required=('id', 'label', 'role', 'run', 'published'),
                   optional=('group', 'note', 'printed', 'params'))
_RUN_FIELDS = dict(required=('config',), optional=('overrides', 'train'))
_DEFAULTS_FIELDS = dict(required=('overrides',), optional=('roles',))

# The defaults blocks several tables share, by name (`defaults: pgd_1x_setting` in a spec), each with its reason.
SHARED_DEFAULTS = {
    # The PGD authors trained every student and distilled run with their 1x setting, which clips the gradient norm
    # at 35 (work_configs/base/1x_setting.py and crowdhuman_1x_setting.py: grad_clip max_norm 35; the teachers' 3x
    # setting does not clip); mmdet's configs do not. FIDELITY.md, PGD, "Gradient clipping".
    'pgd_1x_setting': dict(overrides=['+optim_wrapper.clip_grad.max_norm=35', '+optim_wrapper.clip_grad.norm_type=2'],
                           roles=['student', 'distilled']),
    # CrossKD's ablations (Tables 1-4, 10, 11) distil a GFL R50 teacher into a GFL R18 student.
    'crosskd_gfl_r50_to_r18': dict(
        overrides=['teacher.config=configs/teachers/gfl_r50.py', 'model.backbone.depth=18'], roles=['distilled']),
}


@dataclass(frozen=True)
class Run:
    """What a row needs trained and evaluated: a config path relative to the repo and its overrides.

    train: a teacher row of the coco profile is an evaluation of mmdet's zoo weights where the zoo has them (the
    paper's teachers are the zoo's); `train: true` trains it instead.
    """
    config: str
    overrides: tuple[str, ...] = ()
    train: bool = False


@dataclass(frozen=True)
class Row:
    id: str
    label: str  # as printed in the paper
    role: str  # teacher | student | distilled
    run: Run  # with the spec's defaults already applied
    published: dict[str, float | None]  # every metric column; None where the paper prints no number
    group: str | None = None  # the row group of a grouped table (e.g. the detector), as printed
    note: str | None = None
    printed: bool = True  # False: not a row of the printed table (its numbers come from the text; see note)
    # the ablation's parameter values this row stands for ({'k': 30}), the point a sweep (sweeps/*.yaml) selects
    # it by; every row of a table that has params names the same parameters, and no two rows the same values
    params: dict[str, int | float | str | bool] | None = None


@dataclass(frozen=True)
class TableSpec:
    id: str  # e.g. 'crosskd:table5', 'pgd:table6a', 'rm:headline'
    paper: str
    number: str  # '5', '6a', 'headline'
    version: int
    title: str
    description: str
    metrics: tuple[str, ...]
    rows: tuple[Row, ...]
    path: Path
    label_header: str | None = None
    default_overrides: tuple[str, ...] = ()
    default_roles: tuple[str, ...] = ROLES
    claims: tuple[Claim, ...] = ()  # the paper's claims about this table (repro.tables.claims)
    # a dataset of one's own the table runs on (repro.compare builds such tables: no paper, no published numbers),
    # named; None for the papers' tables (COCO, or the tiny profile's synthetic stand-in)
    dataset: str | None = None

    def row(self, row_id: str) -> Row:
        for row in self.rows:
            if row.id == row_id:
                return row
        raise ReproError(f"{self.id} has no row '{row_id}'; its rows are {', '.join(r.id for r in self.rows)}")


def is_named(number: str) -> bool:
    """A table called by a name ('headline', 'modern') rather than a printed number."""
    return bool(_NAME.match(number))


def table_id(paper: str, number: str) -> str:
    return f'{paper}:{number}' if is_named(number) else f'{paper}:table{number}'


@functools.lru_cache(maxsize=1)
def _strict_loader():
    """PyYAML's safe loader (on libyaml's parser where PyYAML has it: 10x faster) that refuses a key given twice in
    one mapping, which PyYAML would keep the last of silently."""
    import yaml

    class StrictLoader(getattr(yaml, 'CSafeLoader', yaml.SafeLoader)):
        pass

    def no_duplicates(loader, node, deep=False):
        keys = [loader.construct_object(k, deep=deep) for k, _ in node.value]
        for key in keys:
            if keys.count(key) > 1:
                raise yaml.constructor.ConstructorError(None, None, f"field '{key}' given twice", node.start_mark)
        return loader.construct_mapping(node, deep=deep)

    StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, no_duplicates)
    return StrictLoader


def _parse(path: Path):
    """A spec file's YAML as plain data. Importing and running PyYAML costs more than the rest of a warm
    `--dry-run`, so what a file's bytes parse to is kept as JSON in the cache (cache_root()/specs, named by the
    bytes' hash) when JSON holds it exactly."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ReproError(f'cannot read table spec {path}: {err}') from err
    cached = cache_root() / 'specs' / f'{hashlib.sha256(raw).hexdigest()[:20]}.json'
    try:
        return json.loads(cached.read_text())
    except (OSError, ValueError):
        pass
    import yaml
    try:
        data = yaml.load(raw.decode(), Loader=_strict_loader())
    except UnicodeDecodeError as err:
        raise ReproError(f'{path.name}: not UTF-8 text: {err}') from err
    except yaml.YAMLError as err:
        raise ReproError(f'{path.name}: not valid YAML: {err}') from err
    try:
        if json.loads(json.dumps(data)) == data:  # not dates, nor keys that JSON would turn into strings
            atomic_write_json(cached, data)
    except (TypeError, ValueError, ReproError):  # a cache that cannot be written costs time, never the spec
        pass
    return data


class _Checker:
    """Type checks that raise a ReproError naming the file and the field path."""

    def __init__(self, path: Path):
        self.path = path

    def fail(self, field: str, problem: str):
        raise ReproError(f"{self.path.name}: {field or '(top level)'}: {problem}")

    def mapping(self, value, field: str, fields: dict) -> dict:
        if not isinstance(value, dict):
            self.fail(field, f'expected a mapping, got {type(value).__name__}')
        allowed = fields['required'] + fields['optional']
        for key in value:
            if key not in allowed:
                import difflib
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; allowed: {', '.join(allowed)}"
                self.fail(f'{field}.{key}' if field else str(key), f'unknown field{hint}')
        for key in fields['required']:
            if key not in value:
                self.fail(f'{field}.{key}' if field else key, 'missing (required)')
        return value

    def unique_id(self, value, field: str, pattern, example: str, seen: set[str], what: str) -> str:
        """A short lower-case id, not used by another `what` of the table (`seen` gets it)."""
        if not isinstance(value, str) or not pattern.match(value):
            self.fail(field, f'expected a short lower-case id like {example}, got {value!r}')
        if value in seen:
            self.fail(field, f"'{value}' is used by another {what} of this table")
        seen.add(value)
        return value

    def text(self, value, field: str) -> str:
        if not isinstance(value, str) or not value.strip():
            self.fail(field, f'expected a non-empty string, got {value!r}')
        return value

    def seq(self, value, field: str) -> list:
        if not isinstance(value, list):
            self.fail(field, f'expected a list, got {type(value).__name__}')
        return value

    def overrides(self, value, field: str) -> tuple[str, ...]:
        keys = []
        for i, item in enumerate(self.seq(value, field)):
            key, sep, raw = item.partition('=') if isinstance(item, str) else ('', '', '')
            if not sep or not _OVERRIDE_KEY.match(key) or not raw.strip():
                self.fail(f'{field}[{i}]', f'bad override {item!r}: write key=value, e.g. model.backbone.depth=18')
            if key.lstrip('+') in keys:
                self.fail(f'{field}[{i}]', f"override key '{key}' given twice")
            keys.append(key.lstrip('+'))
        return tuple(value)

    def config(self, value, field: str) -> str:
        self.text(value, field)
        if not (value.startswith('configs/') and value.endswith('.py')) or '..' in value.split('/'):
            self.fail(field, f"expected a path like configs/methods/crosskd_gfl.py, got '{value}'")
        return value


def _override_key(item: str) -> str:
    return item.partition('=')[0].lstrip('+')


def merge_overrides(defaults: tuple[str, ...], own: tuple[str, ...]) -> tuple[str, ...]:
    """Defaults first, then the row's own; a default whose key the row sets itself is dropped."""
    own_keys = {_override_key(o) for o in own}
    return tuple(d for d in defaults if _override_key(d) not in own_keys) + own


def load_spec(path: str | Path) -> TableSpec:
    """Read and validate one spec file; any problem is a ReproError naming the file and the field."""
    path = Path(path)
    data = _parse(path)
    check = _Checker(path)
    check.mapping(data, '', _TABLE_FIELDS)
    version = data['version']
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        check.fail('version', f'expected a positive integer, got {version!r}')
    paper = data['paper']
    compare = paper == COMPARE and 'dataset' in data  # repro.compare's table, beside its dataset's description
    if paper == COMPARE and not compare:
        check.fail('dataset', "missing: repro.compare's tables name their dataset (run the python -m repro.compare "
                   'command again to rewrite this file)')
    if not compare and (not isinstance(paper, str) or paper not in PAPERS):
        check.fail('paper', f"unknown paper {paper!r}; expected one of {', '.join(PAPERS)}")
    if 'dataset' in data and not compare:
        check.fail('dataset', f"only repro.compare's tables (paper: {COMPARE}) name a dataset of their own")
    number = data['number']
    if compare:
        if not isinstance(number, str) or not _COMPARE_NAME.match(number):
            check.fail('number', f"expected repro.compare's --name (lower-case letters, digits, '_'), got {number!r}")
    elif isinstance(number, bool) or not isinstance(number, (int, str)) or not (
            _NAME.match(str(number)) or _NUMBER.match(str(number))):
        check.fail('number', f"expected a table number like 5 or '6a', or a name like 'headline', got {number!r}")
    number = str(number)
    expected_stem = f'{paper}_{number}' if compare or is_named(number) else f'{paper}_table{number}'
    if path.stem != expected_stem:
        check.fail('number', f"paper {paper!r} table {number!r} belongs in {expected_stem}.yaml")
    metrics = tuple(check.seq(data['metrics'], 'metrics'))
    if not metrics:
        check.fail('metrics', 'empty; list the metric columns, e.g. [AP, AP50, AP75]')
    for i, metric in enumerate(metrics):
        if not isinstance(metric, str) or metric not in METRICS:
            check.fail(f'metrics[{i}]', f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
        if metrics.count(metric) > 1:
            check.fail(f'metrics[{i}]', f'{metric} listed twice')
    default_overrides, default_roles = (), ROLES
    if 'defaults' in data:
        defaults = data['defaults']
        if isinstance(defaults, str):
            if defaults not in SHARED_DEFAULTS:
                check.fail('defaults', f"unknown shared defaults {defaults!r}; expected one of "
                           f"{', '.join(SHARED_DEFAULTS)} or a mapping with overrides (and roles)")
            defaults = SHARED_DEFAULTS[defaults]
        defaults = check.mapping(defaults, 'defaults', _DEFAULTS_FIELDS)
        default_overrides = check.overrides(defaults['overrides'], 'defaults.overrides')
        if 'roles' in defaults:
            default_roles = tuple(check.seq(defaults['roles'], 'defaults.roles'))
            for i, role in enumerate(default_roles):
                if not isinstance(role, str) or role not in ROLES:
                    check.fail(f'defaults.roles[{i}]', f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    label_header = check.text(data['label_header'], 'label_header') if 'label_header' in data else None
    rows_data = check.seq(data['rows'], 'rows')
    if not rows_data:
        check.fail('rows', 'empty')
    rows, seen = [], set()
    for i, row_data in enumerate(rows_data):
        rows.append(_row(check, row_data, f'rows[{i}]', metrics, default_overrides, default_roles, seen))
    _check_params(check, rows)
    claims = parse_claims(check, data['claims'], [r.id for r in rows], metrics) if 'claims' in data else ()
    return TableSpec(id=f'{COMPARE}:{number}' if compare else table_id(paper, number), paper=paper, number=number,
                     version=version, title=check.text(data['title'], 'title'),
                     description=check.text(data['description'], 'description'), metrics=metrics,
                     rows=tuple(rows), path=path, label_header=label_header, default_overrides=default_overrides,
                     default_roles=default_roles, claims=claims,
                     dataset=check.text(data['dataset'], 'dataset') if compare else None)


def _row(check: _Checker, data, field: str, metrics: tuple[str, ...], default_overrides: tuple[str, ...],
         default_roles: tuple[str, ...], seen: set[str]) -> Row:
    check.mapping(data, field, _ROW_FIELDS)
    row_id = check.unique_id(data['id'], f'{field}.id', _ROW_ID, 'crosskd_l3', seen, 'row')
    field = f'{field} ({row_id})'
    label = data['label']
    if not isinstance(label, str) or not label:  # '-' is a fine label; a YAML number is not
        check.fail(f'{field}.label', f'expected a string (quote it), got {label!r}')
    role = data['role']
    if not isinstance(role, str) or role not in ROLES:
        check.fail(f'{field}.role', f"expected one of {', '.join(ROLES)}, got {role!r}")
    run = check.mapping(data['run'], f'{field}.run', _RUN_FIELDS)
    config = check.config(run['config'], f'{field}.run.config')
    own = check.overrides(run.get('overrides', []), f'{field}.run.overrides')
    overrides = merge_overrides(default_overrides, own) if role in default_roles else own
    train = run.get('train', False)
    if not isinstance(train, bool):
        check.fail(f'{field}.run.train', f'expected true or false, got {train!r}')
    published = data['published']
    if not isinstance(published, dict):
        check.fail(f'{field}.published', f'expected a mapping of metric to number, got {type(published).__name__}')
    for metric in published:
        if metric not in metrics:
            check.fail(f'{field}.published.{metric}', f"not a metric column of this table ({', '.join(metrics)})")
    for metric in metrics:
        if metric not in published:
            check.fail(f'{field}.published.{metric}', 'missing; write null where the paper prints no number')
        value = published[metric]
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            check.fail(f'{field}.published.{metric}', f'expected a number or null, got {value!r}')
        if value is not None and not 0 <= value <= 100:  # AP, MR⁻² and JI are all printed in percent
            check.fail(f'{field}.published.{metric}', f'{value!r} is out of range: {metric} is a percentage, 0 to 100')
    group = check.text(data['group'], f'{field}.group') if 'group' in data else None
    note = check.text(data['note'], f'{field}.note') if 'note' in data else None
    printed = data.get('printed', True)
    if not isinstance(printed, bool):
        check.fail(f'{field}.printed', f'expected true or false, got {printed!r}')
    params = _params(check, data['params'], f'{field}.params') if 'params' in data else None
    return Row(id=row_id, label=label, role=role, run=Run(config, overrides, train),
               published={m: None if published[m] is None else float(published[m]) for m in metrics},
               group=group, note=note, printed=printed, params=params)


def _params(check: _Checker, value, field: str) -> dict:
    if not isinstance(value, dict) or not value:
        check.fail(field, f'expected a mapping of parameter to value, e.g. {{k: 30}}, got {value!r}')
    for name, item in value.items():
        if not isinstance(name, str) or not _PARAM_NAME.match(name):
            check.fail(f'{field}.{name}', 'expected a lower-case parameter name like k or alpha')
        if name in SWEEP_OWN_PARAMS:
            check.fail(f'{field}.{name}', f"'{name}' is a parameter of every sweep itself; name the ablation's "
                       'parameter otherwise')
        if not isinstance(item, (int, float, str, bool)) or item == '':
            check.fail(f'{field}.{name}', f'expected a number, a string or true/false, got {item!r}')
    return dict(value)


def _check_params(check: _Checker, rows: list[Row]) -> None:
    """The rows that carry params name the same parameters, each with its own values."""
    with_params = [(i, r) for i, r in enumerate(rows) if r.params is not None]
    if not with_params:
        return
    names = sorted(with_params[0][1].params)
    seen: dict[tuple, str] = {}
    for i, row in with_params:
        field = f'rows[{i}] ({row.id}).params'
        if sorted(row.params) != names:
            check.fail(field, f"names {', '.join(sorted(row.params))}; the table's other rows name "
                       f"{', '.join(names)}")
        point = tuple((name, param_key(row.params[name])) for name in names)
        if point in seen:
            check.fail(field, f"the same values as row '{seen[point]}'")
        seen[point] = row.id


def param_key(value) -> str:
    """A parameter value as compared between a row and a sweep: 30, 30.0 and '30' are one value, True and 'true'
    another (an agent passes `--k=30` as text, a parameter file as a number)."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return repr(float(value))
    text = str(value).strip()
    if text.lower() in ('true', 'false'):
        return text.lower()
    try:
        return repr(float(text))
    except ValueError:
        return text


def load_all(spec_dir: str | Path = SPEC_DIR) -> dict[str, TableSpec]:
    """Every spec in spec_dir keyed by table id, in paper order (CrossKD, PGD, RM) then table number."""
    specs = [load_spec(p) for p in Path(spec_dir).glob('*.yaml')]
    ids: dict[str, TableSpec] = {}
    for spec in specs:
        if spec.id in ids:
            raise ReproError(f'{spec.path.name}: table {spec.id} is also defined in {ids[spec.id].path.name}')
        ids[spec.id] = spec
    return {spec.id: spec for spec in sorted(specs, key=lambda spec: _table_order(spec.id))}


def _table_order(table: str):
    paper, _, name = table.partition(':')
    number = name.removeprefix('table')
    digits = re.match(r'\d*', number).group()
    return list(PAPERS).index(paper) if paper in PAPERS else len(PAPERS), int(digits) if digits else 10 ** 6, number


class _SpecFiles(Mapping):
    """The specs in spec_dir by table id, each read only when asked for: the ids come from the file names, which
    load_spec checks against the file's paper and number. Finding one table need not parse all of them."""

    def __init__(self, spec_dir: str | Path = SPEC_DIR):
        paths = {}
        for path in Path(spec_dir).glob('*.yaml'):
            paper, _, name = path.stem.partition('_')
            paths[table_id(paper, name.removeprefix('table'))] = path
        self._paths = {table: paths[table] for table in sorted(paths, key=_table_order)}

    def __getitem__(self, table: str) -> TableSpec:
        return load_spec(self._paths[table])

    def path(self, table: str) -> Path | None:
        return self._paths.get(table)

    def __iter__(self):
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


def resolve(query: str, specs: dict[str, TableSpec] | None = None) -> tuple[TableSpec, str | None]:
    """Find a table by id: 'crosskd:table5', 'pgd:table6a', 'rm:headline', a file stem ('pgd_table6a'), a bare
    'table5' (CrossKD's), or the path of a spec file of one's own. Returns the spec and, for a bare id or a path,
    a note saying which table it chose."""
    if query.endswith(('.yaml', '.yml')):
        if not Path(query).is_file():
            raise ReproError(f'table spec file not found: {query}')
        spec = load_spec(query)
        builtin = _SpecFiles().path(spec.id)
        if builtin and builtin.resolve() != Path(query).resolve():  # its reports would overwrite the built-in's
            raise ReproError(f'{query} is {spec.id}, the id of a built-in table ({builtin.name}); give your table '
                             "another number (e.g. number: 12 for crosskd_table12.yaml) so that its runs' rows and "
                             'reports stay its own')
        return spec, f'{query} is {spec.id} ({spec.title})'
    specs = _SpecFiles() if specs is None else specs
    text = query.strip().lower()
    paper, sep, name = text.partition(':')
    if not sep:
        stem_paper, _, stem_name = text.partition('_')
        paper, name = (stem_paper, stem_name) if stem_paper in PAPERS and stem_name else ('', text)
    if name.isdigit() or re.fullmatch(r'\d+[a-z]', name or ''):
        name = f'table{name}'
    wanted = f'{paper or DEFAULT_PAPER}:{name}'
    if wanted in specs:
        spec = specs[wanted]
        note = None
        if not paper:
            others = [i for i in specs if i.endswith(f':{name}') and i != wanted]
            also = f"; {' and '.join(others)} {'is' if len(others) == 1 else 'are'} the other paper's" if others \
                else ''
            note = f"'{query}' is {PAPERS[spec.paper]} Table {spec.number} ({spec.title}){also}"
        return spec, note
    if paper and paper not in PAPERS:
        raise ReproError(f"unknown paper '{paper}' in '{query}'; papers: {', '.join(PAPERS)}")
    same_name = [i for i in specs if i.endswith(f':{name}')]
    import difflib
    candidates = same_name + [i for i in difflib.get_close_matches(wanted, specs, n=4, cutoff=0.6)
                              if i not in same_name]
    hint = f"; did you mean {', '.join(candidates)}?" if candidates else ''
    raise ReproError(f"unknown table '{query}'{hint} (python -m repro.run --list shows all {len(specs)})")


def referenced_configs(spec: TableSpec) -> list[str]:
    """Every config path a spec names: each row's config and config-valued overrides (teacher.config=...)."""
    paths = []
    for row in spec.rows:
        paths.append(row.run.config)
        paths += [o.partition('=')[2] for o in row.run.overrides if _override_key(o) in CONFIG_VALUED_KEYS]
    return list(dict.fromkeys(paths))


def missing_configs(spec: TableSpec, root: str | Path = REPO_ROOT) -> list[str]:
    """The config paths a spec names that do not exist (yet) under the repo root."""
    return [p for p in referenced_configs(spec) if not (Path(root) / p).is_file()]


def check_configs(spec: TableSpec, root: str | Path = REPO_ROOT) -> None:
    """Raise a ReproError naming the spec file and every missing config."""
    missing = missing_configs(spec, root)
    if missing:
        raise ReproError(f"{spec.path.name}: config(s) not found: {', '.join(missing)}")
