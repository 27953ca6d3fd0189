"""Table specs (repro/tables): every shipped spec validates, its configs exist, its AP column matches a second,
independent transcription of the papers; schema errors name file and field; ids resolve; `repro.run --list`."""
import json
import subprocess
import textwrap

import pytest

from conftest import PYTHON, REPO
from repro import run as repro_run
from repro.errors import ReproError
from repro.tables.spec import (SHARED_DEFAULTS, SPEC_DIR, check_configs, load_all, load_spec, missing_configs,
                               resolve)

SPECS = load_all()
SPEC_FILES = sorted(SPEC_DIR.glob('*.yaml'))

# The AP column of every table, typed again from crosskd.txt / pgd.txt / the RM abstract, separately from the
# YAML specs: (label as printed, AP) in the printed order. Non-printed rows (Table 1's teacher, RM's baseline)
# carry the number the text gives.
AP_COLUMNS = {
    'crosskd:table1': [('GFL R50 (T)', 40.2), ('-', 35.8), ('0', 38.2), ('1', 38.3), ('2', 38.6), ('3', 38.7),
                       ('4', 38.2), ('LD', 37.8)],
    'crosskd:table2': [('-', 35.8), ('PKD:neck', 38.0), ('PKD:cls', 37.5), ('PKD:reg', 37.2), ('PKD:cls+reg', 37.3),
                       ('CrossKD', 38.7)],
    'crosskd:table3': [('-', 35.8), ('cls', 37.3), ('reg', 36.8), ('cls+reg', 37.8), ('cls', 37.7), ('reg', 37.2),
                       ('cls+reg', 38.7)],
    'crosskd:table4': [('-', 35.8), ('CrossKD', 38.7), ('LD', 37.8), ('CrossKD + LD', 38.1)],
    'crosskd:table5': [('RetinaNet R18 (S)', 31.7), ('Faster R-CNN R50 (T)', 40.3), ('HEAD', 36.1),
                       ('RetinaNet R50 (T)', 39.5), ('HEAD', 35.7), ('RetinaNet R50 (T)', 39.5), ('CrossKD', 36.7)],
    'crosskd:table6': [('ResNet-18', 35.8), ('ResNet-18 + CrossKD', 39.2), ('ResNet-34', 38.9),
                       ('ResNet-34 + CrossKD', 42.4), ('ResNet-50', 40.2), ('ResNet-50 + CrossKD', 43.7)],
    'crosskd:table7': [('GFL-R101 (T)', 44.9), ('GFL-R50 (S)', 40.2), ('FitNets*', 40.7), ('Inside GT Box*', 40.7),
                       ('Defeat*', 40.8), ('Main Region*', 41.1), ('Fine-Grained*', 41.1), ('FGD', 41.3),
                       ('GID*', 41.5), ('SKD', 42.3), ('LD', 43.0), ('PKD*', 43.3), ('CrossKD', 43.7),
                       ('CrossKD+PKD', 43.9)],
    'crosskd:table8': [('R101', 38.9), ('R50', 37.4), ('CrossKD', 39.7), ('R101', 40.8), ('R50', 38.5),
                       ('CrossKD', 41.3), ('R101', 41.5), ('R50', 39.4), ('CrossKD', 41.8)],
    'crosskd:table9': [('SwinT (T)', 37.3), ('ResNet-50 (S)', 36.5), ('PKD', 37.2), ('CrossKD', 38.0),
                       ('ResNet-50 (T)', 36.5), ('MobileNetv2 (S)', 30.9), ('PKD', 33.2), ('CrossKD', 34.1)],
    'crosskd:table10': [('-', 35.8), ('(a)', 38.7), ('(b)', 35.4), ('(c)', 34.5), ('(d)', 32.5)],
    'crosskd:table11': [('-', 35.8), ('BCE P', 36.3), ('BCE N', 36.2), ('BCE P+N', 36.9), ('QFL P+N', 38.7)],
    'pgd:table1': [  # FCOS, AutoAssign, ATSS, GFL, DDOD
        ('Teacher', 43.1), ('Student', 38.2), ('DeFeat', 40.7), ('FRS', 40.9), ('FKD', 41.3), ('FGD', 41.4),
        ('Ours', 42.5),
        ('Teacher', 44.8), ('Student', 40.6), ('DeFeat', 42.3), ('FRS', 42.4), ('FKD', 42.8), ('FGD', 43.2),
        ('Ours', 43.8),
        ('Teacher', 45.5), ('Student', 39.6), ('DeFeat', 41.8), ('FRS', 41.6), ('FGFI', 41.8), ('FKD', 42.3),
        ('FGD', 42.6), ('Ours', 44.2),
        ('Teacher', 45.8), ('Student', 40.2), ('DeFeat', 42.1), ('FRS', 42.2), ('FKD', 43.1), ('FGD', 43.2),
        ('LD', 43.5), ('Ours', 43.8),
        ('Teacher', 46.6), ('Student', 42.0), ('DeFeat', 43.2), ('FRS', 43.7), ('FGFI', 44.1), ('FKD', 43.6),
        ('FGD', 44.1), ('Ours', 45.4)],
    'pgd:table2': [('Teacher', 43.1), ('Student', 32.8), ('FGD', 34.7), ('Ours', 37.3),
                   ('Teacher', 45.5), ('Student', 33.5), ('FGD', 35.8), ('Ours', 38.3)],
    'pgd:table3': [('Teacher', 90.2), ('Student', 88.0), ('FKD', 89.1), ('DeFeat', 89.1), ('FRS', 89.2),
                   ('FGFI', 89.2), ('FGD', 89.3), ('Ours', 90.0)],
    'pgd:table4': [('S & T', 38.2), ('FGD', 39.0), ('Ours', 39.5), ('S & T', 39.6), ('FGD', 40.2), ('Ours', 40.7)],
    'pgd:table5': [('Teacher', 45.5), ('Student', 39.6), ('Box', 43.3), ('BoxGauss', 43.7), ('Centre', 43.1),
                   ('Quality', 43.8), ('TopkEq', 43.9), ('KDE', 44.0), ('Ours', 44.2)],
    'pgd:table6a': [('Student', 39.6), ('1', 43.2), ('5', 43.5), ('9', 43.6), ('15', 43.9), ('30', 44.2), ('45', 44.0), ('60', 43.9)],
    'pgd:table6b': [('Student', 38.2), ('0.005', 41.7), ('0.01', 42.0), ('0.03', 42.5), ('0.05', 42.5), ('0.07', 42.4), ('0.1', 42.2),
                    ('0.2', 41.8),
                    ('Student', 39.6), ('0.005', 42.9), ('0.01', 43.2), ('0.03', 43.7), ('0.05', 43.9), ('0.07', 44.2), ('0.1', 44.1),
                    ('0.2', 43.2)],
    'pgd:table7': [('-', 39.6), ('neck', 43.6), ('cls', 43.8), ('reg', 41.7), ('cls+reg', 44.2)],
    'rm:headline': [('RetinaNet R50', 36.9), ('RetinaNet R50 + RM + PFI', 40.4)],
}
# PGD Table 3's other columns (CrowdHuman), typed again: MR (lower is better) and JI.
PGD3_MR_JI = [(41.4, 81.4), (46.0, 79.0), (44.3, 80.0), (44.2, 79.9), (44.1, 80.3), (43.8, 80.3), (43.1, 80.4),
              (42.8, 80.7)]
EXPECTED_TABLES = [f'crosskd:table{i}' for i in range(1, 12)] + [
    f'pgd:table{n}' for n in ('1', '2', '3', '4', '5', '6a', '6b', '7')] + ['rm:headline', 'ext:modern', 'ext:pgd_init', 'ext:pgd_teacher']


def test_every_paper_table_has_a_spec_and_the_extensions_follow():
    assert list(SPECS) == EXPECTED_TABLES
    assert len(SPEC_FILES) == len(EXPECTED_TABLES)


@pytest.mark.parametrize('path', SPEC_FILES, ids=lambda p: p.stem)
def test_spec_validates(path):
    spec = load_spec(path)
    assert spec.rows and all(set(r.published) == set(spec.metrics) for r in spec.rows)
    assert any(r.role == 'distilled' for r in spec.rows)
    for row in spec.rows:
        for value in row.published.values():
            assert value is None or 0 < value < 100


@pytest.mark.parametrize('table', EXPECTED_TABLES)
def test_spec_configs_exist(table):
    """Fails while a spec names a config that is still being written; the message lists them."""
    check_configs(SPECS[table])


@pytest.mark.parametrize('table', [t for t in EXPECTED_TABLES if not t.startswith('ext:')])  # ext: no paper
def test_ap_column_matches_independent_transcription(table):
    spec = SPECS[table]
    assert [(r.label, r.published['AP']) for r in spec.rows] == AP_COLUMNS[table]


def test_pgd_crowdhuman_columns():
    spec = SPECS['pgd:table3']
    assert spec.metrics == ('MR', 'AP', 'JI')
    assert [(r.published['MR'], r.published['JI']) for r in spec.rows] == PGD3_MR_JI


def test_missing_values_are_null_not_zero():
    teacher = SPECS['crosskd:table1'].row('teacher')
    assert teacher.published['AP'] == 40.2 and teacher.published['AP50'] is None and not teacher.printed


def test_defaults_apply_to_their_roles_only():
    spec = SPECS['crosskd:table1']
    assert spec.row('student').run.overrides == ()
    assert spec.row('crosskd_l0').run.overrides == (
        'teacher.config=configs/teachers/gfl_r50.py', 'model.backbone.depth=18', 'distill.layer=0')


# --- schema errors: broken specs written into tmp_path -------------------------------------------------------
GOOD = """\
version: 1
paper: crosskd
number: 1
title: t
description: d
metrics: [AP, AP50]
defaults:
  overrides: [model.backbone.depth=18, teacher.config=configs/detectors/gfl_r50.py]
  roles: [distilled]
rows:
  - id: student
    label: '-'
    role: student
    run: {config: configs/detectors/gfl_r18.py}
    published: {AP: 35.8, AP50: null}
  - id: kd
    label: KD
    role: distilled
    run: {config: configs/methods/crosskd_gfl.py, overrides: [model.backbone.depth=34, distill.layer=2]}
    published: {AP: 38.7, AP50: 56.3}
"""
GOOD_DEFAULTS = GOOD[GOOD.index('defaults:'):GOOD.index('rows:')].rstrip()


def write(tmp_path, text, name='crosskd_table1.yaml'):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_good_spec_and_override_precedence(tmp_path):
    spec = load_spec(write(tmp_path, GOOD))
    assert spec.id == 'crosskd:table1' and spec.row('student').published == {'AP': 35.8, 'AP50': None}
    assert spec.row('kd').run.overrides == (  # the row's own depth wins over the default's
        'teacher.config=configs/detectors/gfl_r50.py', 'model.backbone.depth=34', 'distill.layer=2')


def test_shared_defaults_by_name_are_the_block_written_out(tmp_path):
    """`defaults: <name>` is SHARED_DEFAULTS[name] written into the spec: the same rows, the same runs."""
    block = SHARED_DEFAULTS['pgd_1x_setting']
    written = f"defaults:\n  overrides: [{', '.join(block['overrides'])}]\n  roles: [{', '.join(block['roles'])}]"
    named = load_spec(write(tmp_path, GOOD.replace(GOOD_DEFAULTS, 'defaults: pgd_1x_setting')))
    (tmp_path / 'written').mkdir()
    expected = load_spec(write(tmp_path / 'written', GOOD.replace(GOOD_DEFAULTS, written)))
    assert named.rows == expected.rows and named.default_roles == ('student', 'distilled')
    assert named.row('student').run.overrides == (
        '+optim_wrapper.clip_grad.max_norm=35', '+optim_wrapper.clip_grad.norm_type=2')


@pytest.mark.parametrize('old, new, field', [
    ('title: t', 'title: t\ncaption: c', 'caption: unknown field'),
    ('version: 1', 'version: one', 'version:'),
    ('paper: crosskd', 'paper: crosskdd', 'paper:'),
    ('number: 1', 'number: 2', 'number:'),  # the file is crosskd_table1.yaml
    ('number: 1', 'number: 1\ndataset: shapes', "dataset: only repro.compare's tables"),
    ('paper: crosskd', 'paper: compare', 'dataset: missing'),
    ('metrics: [AP, AP50]', 'metrics: [AP, AP_50]', 'metrics[1]:'),
    ('published: {AP: 35.8, AP50: null}', 'published: {AP: 35.8}', 'rows[0] (student).published.AP50: missing'),
    ('published: {AP: 35.8, AP50: null}', "published: {AP: '35.8', AP50: null}", 'rows[0] (student).published.AP:'),
    ('published: {AP: 35.8, AP50: null}', 'published: {AP: 35.8, AP50: null, APs: 1.0}',
     'rows[0] (student).published.APs:'),
    ('role: student', 'role: baseline', 'rows[0] (student).role:'),
    ("label: '-'", 'label: 0', 'rows[0] (student).label:'),
    ('id: kd', 'id: student', 'rows[1].id:'),
    ('distill.layer=2]', 'distill.layer]', 'rows[1] (kd).run.overrides[1]: bad override'),
    ('distill.layer=2]', 'distill layer=2]', 'rows[1] (kd).run.overrides[1]: bad override'),
    ('distill.layer=2]', 'distill.layer=2, distill.layer=3]', "rows[1] (kd).run.overrides[2]: override key"),
    ('model.backbone.depth=18,', 'model.backbone.depth=,', 'defaults.overrides[0]: bad override'),
    ('roles: [distilled]', 'roles: [distiled]', 'defaults.roles[0]:'),
    (GOOD_DEFAULTS, 'defaults: pgd_2x_setting', "defaults: unknown shared defaults 'pgd_2x_setting'; expected one of"),
    (GOOD_DEFAULTS, 'defaults: [pgd_1x_setting]', 'defaults: expected a mapping'),
    ('config: configs/detectors/gfl_r18.py', 'config: detectors/gfl_r18.py', 'rows[0] (student).run.config:'),
    ('config: configs/detectors/gfl_r18.py', 'config: configs/../x.py', 'rows[0] (student).run.config:'),
    ('config: configs/detectors/gfl_r18.py}', 'config: configs/detectors/gfl_r18.py, override: []}',
     'rows[0] (student).run.override: unknown field'),
    ('    role: student\n', '    role: student\n    role: teacher\n', "given twice"),
    ('published: {AP: 35.8, AP50: null}', 'published: {AP: 358, AP50: null}',
     'rows[0] (student).published.AP: 358 is out of range: AP is a percentage, 0 to 100'),
    ('published: {AP: 35.8, AP50: null}', 'published: {AP: 35.8, AP50: -1.0}',
     'rows[0] (student).published.AP50: -1.0 is out of range'),
])
def test_schema_errors_name_file_and_field(tmp_path, old, new, field):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(ReproError) as err:
        load_spec(path)
    assert 'crosskd_table1.yaml' in str(err.value) and field in str(err.value), str(err.value)


STUDENT_ROLE, KD_ROLE = '    role: student\n', '    role: distilled\n'


@pytest.mark.parametrize('student, kd, field', [
    ('{}', None, 'rows[0] (student).params: expected a mapping'),
    ('{k: [1]}', None, 'rows[0] (student).params.k: expected a number, a string or true/false'),
    ('{K: 1}', None, 'rows[0] (student).params.K: expected a lower-case parameter name'),
    ('{table: 1}', None, "rows[0] (student).params.table: 'table' is a parameter of every sweep"),
    ('{k: 1}', '{j: 2}', "rows[1] (kd).params: names j; the table's other rows name k"),
    ('{k: 1, a: x}', '{k: 1.0, a: x}', "rows[1] (kd).params: the same values as row 'student'"),
])
def test_params_errors_name_file_and_field(tmp_path, student, kd, field):
    text = GOOD.replace(STUDENT_ROLE, f'{STUDENT_ROLE}    params: {student}\n')
    if kd:
        text = text.replace(KD_ROLE, f'{KD_ROLE}    params: {kd}\n')
    with pytest.raises(ReproError) as err:
        load_spec(write(tmp_path, text))
    assert 'crosskd_table1.yaml' in str(err.value) and field in str(err.value), str(err.value)


def test_params_load_and_compare_across_forms(tmp_path):
    text = GOOD.replace(KD_ROLE, f'{KD_ROLE}    params: {{layer: 2, cls_loss: qfl_all, renorm: true}}\n')
    spec = load_spec(write(tmp_path, text))
    assert spec.row('kd').params == {'layer': 2, 'cls_loss': 'qfl_all', 'renorm': True}
    assert spec.row('student').params is None
    from repro.tables.spec import param_key
    assert param_key(30) == param_key('30') == param_key(30.0) == param_key('3e1') != param_key(31)
    assert param_key(True) == param_key('True') == param_key('true') != param_key(1)
    assert param_key('cls+reg') == 'cls+reg' and param_key(0.07) == param_key('0.07')


def test_broken_yaml_names_the_file(tmp_path):
    with pytest.raises(ReproError, match='crosskd_table1.yaml: not valid YAML'):
        load_spec(write(tmp_path, GOOD + '  - id: [unclosed\n'))


def test_a_broken_spec_breaks_the_listing(tmp_path):
    write(tmp_path, GOOD)
    write(tmp_path, GOOD.replace('number: 1', 'number: 2').replace('id: kd', 'id: student'), 'crosskd_table2.yaml')
    with pytest.raises(ReproError, match=r'crosskd_table2.yaml: rows\[1\].id'):
        load_all(tmp_path)


def test_missing_configs_are_reported_separately(tmp_path):
    text = GOOD.replace('configs/methods/crosskd_gfl.py', 'configs/methods/not_yet.py').replace(
        'configs/detectors/gfl_r50.py', 'configs/teachers/not_yet_either.py')
    spec = load_spec(write(tmp_path, text))  # loading does not need the configs
    assert missing_configs(spec) == ['configs/methods/not_yet.py', 'configs/teachers/not_yet_either.py']
    with pytest.raises(ReproError, match='crosskd_table1.yaml: config.*configs/methods/not_yet.py'):
        check_configs(spec)
    check_configs(load_spec(write(tmp_path, GOOD)))


# --- id resolution --------------------------------------------------------------------------------------------
@pytest.mark.parametrize('query, table', [
    ('crosskd:table5', 'crosskd:table5'), ('pgd:table6a', 'pgd:table6a'), ('PGD:Table6A', 'pgd:table6a'),
    ('pgd_table6a', 'pgd:table6a'), ('pgd:6a', 'pgd:table6a'), ('rm:headline', 'rm:headline'),
    ('crosskd:table10', 'crosskd:table10'),
])
def test_full_ids_resolve_without_note(query, table):
    spec, note = resolve(query, SPECS)
    assert spec.id == table and note is None


def test_a_spec_of_ones_own_may_not_take_a_built_in_id(tmp_path):
    """Its runs would be filed under the built-in table's rows and its reports would overwrite the built-in's."""
    path = write(tmp_path, GOOD)
    with pytest.raises(ReproError, match=r'crosskd_table1.yaml is crosskd:table1, the id of a built-in table '
                                         r'\(crosskd_table1.yaml\); give your table another number'):
        resolve(str(path))
    own = write(tmp_path, GOOD.replace('number: 1', 'number: 12'), 'crosskd_table12.yaml')
    assert resolve(str(own))[0].id == 'crosskd:table12'
    assert resolve(str(SPEC_DIR / 'crosskd_table1.yaml'))[0].id == 'crosskd:table1'  # the built-in file itself


def test_bare_id_is_crosskd_with_a_note():
    spec, note = resolve('table5', SPECS)
    assert spec.id == 'crosskd:table5'
    assert 'CrossKD Table 5' in note and 'pgd:table5' in note
    spec, note = resolve('table10', SPECS)
    assert spec.id == 'crosskd:table10' and 'CrossKD Table 10' in note


@pytest.mark.parametrize('query, hints', [
    ('table12', ['crosskd:table1']), ('headline', ['rm:headline']), ('table6a', ['pgd:table6a']),
    ('pgd:tabel6', ['pgd:table6a', 'pgd:table6b']), ('pgd:table11', ['pgd:table1']),
])
def test_unknown_ids_list_close_matches(query, hints):
    with pytest.raises(ReproError, match=f"unknown table '{query}'") as err:
        resolve(query, SPECS)
    assert all(h in str(err.value) for h in hints), str(err.value)


def test_unknown_paper():
    with pytest.raises(ReproError, match="unknown paper 'ld'"):
        resolve('ld:table1', SPECS)


# --- the CLI ----------------------------------------------------------------------------------------------------
def test_list(capsys):
    repro_run.main(['--list'])
    out = capsys.readouterr().out
    for table, spec in SPECS.items():
        line = next(l for l in out.splitlines() if l.startswith(table + ' '))
        assert f'{len(spec.rows)} rows' in line and f'{len(spec.claims)} claims' in line and spec.title in line


def test_list_json(capsys):
    repro_run.main(['--list', '--json'])
    tables = json.loads(capsys.readouterr().out)
    assert [t['id'] for t in tables] == EXPECTED_TABLES
    assert all(set(t) == {'id', 'paper', 'number', 'title', 'metrics', 'rows', 'claims'} for t in tables)
    by_id = {t['id']: t for t in tables}
    assert by_id['pgd:table6a']['number'] == '6a' and by_id['crosskd:table5']['number'] == 5
    row = by_id['crosskd:table1']['rows'][0]
    assert set(row) == {'id', 'label', 'role', 'published'}
    assert row['published'] == {'AP': 40.2, 'AP50': None, 'AP75': None, 'APs': None, 'APm': None, 'APl': None}
    assert by_id['pgd:table3']['metrics'] == ['MR', 'AP', 'JI']
    for table in tables:
        claims = SPECS[table['id']].claims
        assert [c['id'] for c in table['claims']] == [c.id for c in claims] and claims
        assert all(set(c) == {'id', 'says', 'source', 'better', 'than', 'margin', 'metric'} for c in table['claims'])


def test_table_argument_prints_the_resolved_table():
    proc = subprocess.run([PYTHON, '-m', 'repro.run', 'table5', '--show'], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith("note: 'table5' is CrossKD Table 5")
    assert 'configs/methods/crosskd_retinanet_r18.py' in proc.stdout and '36.7' in proc.stdout
    claims = SPECS['crosskd:table5'].claims
    assert f"The paper's claims ({len(claims)}), each judged by the report from paired seeds:" in proc.stdout
    assert all(f'  {c.id}: {c.says} [{c.better} > ' in proc.stdout for c in claims)
    proc = subprocess.run([PYTHON, '-m', 'repro.run', 'pgd:tabel6'], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2 and proc.stderr.startswith("error: unknown table 'pgd:tabel6'; did you mean")


# --- every table plans in both profiles (what --dry-run prints): every row compiles, override keys exist ---------
def test_every_table_plans_in_both_profiles():
    from repro.plan.dag import plan
    for table, spec in SPECS.items():
        if missing_configs(spec):  # reported by test_spec_configs_exist
            continue
        for profile in ('tiny', 'coco'):
            runs = plan(spec, profile, check_data=False)  # the coco data need not be here
            served = {row for run in runs for row in run.rows}
            assert served == {f'{spec.id}/{row.id}' for row in spec.rows}, (table, profile)
