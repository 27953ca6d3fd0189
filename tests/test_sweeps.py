"""W&B sweeps (sweeps/*.yaml, repro.sweep): every file passes W&B's own schema and its grid is exactly its table's
rows with the paper's values; an agent's call in both forms is the table row's run; offline, a tiny sweep trains its
runs and the table reuses them; under an agent the row's run logs into the agent's W&B run and its teacher does not.
"""
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import FAST, PYTHON, REPO
from repro.errors import ReproError
from repro.plan.dag import plan
from repro.runs.store import read_record
from repro.sweep import load_sweep_file
from repro.sweep import main as sweep_main
from repro.plan.sweep_engine import grid, grids
from repro.plan.sweep_points import PARAM_FILE_ENV, agent_params, point
from repro.tables.spec import load_all, load_spec

SPECS = load_all()
SWEEP_FILES = sorted((REPO / 'sweeps').glob('*.yaml'))
F, T = False, True
# Each sweep's table, parameter names and, per point of its grid, the paper's AP: typed again from crosskd.txt and
# pgd.txt, separately from the specs' `params` and from the sweep files.
PAPER = {
    'k_ablation.yaml': ('pgd:table6a', ('k',), {
        (1,): 43.2, (5,): 43.5, (9,): 43.6, (15,): 43.9, (30,): 44.2, (45,): 44.0, (60,): 43.9}),
    'alpha_ablation.yaml': ('pgd:table6b', ('detector', 'alpha'), {
        ('fcos', 0.005): 41.7, ('fcos', 0.01): 42.0, ('fcos', 0.03): 42.5, ('fcos', 0.05): 42.5, ('fcos', 0.07): 42.4,
        ('fcos', 0.1): 42.2, ('fcos', 0.2): 41.8, ('atss', 0.005): 42.9, ('atss', 0.01): 43.2, ('atss', 0.03): 43.7,
        ('atss', 0.05): 43.9, ('atss', 0.07): 44.2, ('atss', 0.1): 44.1, ('atss', 0.2): 43.2}),
    'pgd_fg_strategy.yaml': ('pgd:table5', ('strategy',), {
        ('box',): 43.3, ('box_gauss',): 43.7, ('centre',): 43.1, ('quality',): 43.8, ('topk_eq',): 43.9,
        ('kde',): 44.0, ('ours',): 44.2}),
    'pgd_branches.yaml': ('pgd:table7', ('branches',), {
        ('neck',): 43.6, ('cls',): 43.8, ('reg',): 41.7, ('cls+reg',): 44.2}),
    'crosskd_layer_position.yaml': ('crosskd:table1', ('layer',), {
        (0,): 38.2, (1,): 38.3, (2,): 38.6, (3,): 38.7, (4,): 38.2}),
    'crosskd_pkd_position.yaml': ('crosskd:table2', ('position',), {
        ('neck',): 38.0, ('cls',): 37.5, ('reg',): 37.2, ('cls+reg',): 37.3}),
    'crosskd_branches.yaml': ('crosskd:table3', ('method', 'branches'), {
        ('ld', 'cls'): 37.3, ('ld', 'reg'): 36.8, ('ld', 'cls+reg'): 37.8, ('crosskd', 'cls'): 37.7,
        ('crosskd', 'reg'): 37.2, ('crosskd', 'cls+reg'): 38.7}),
    'crosskd_with_ld.yaml': ('crosskd:table4', ('crosskd', 'ld'), {
        (F, F): 35.8, (T, F): 38.7, (F, T): 37.8, (T, T): 38.1}),
    'crosskd_student_depth.yaml': ('crosskd:table6', ('depth', 'crosskd'), {
        (18, F): 35.8, (18, T): 39.2, (34, F): 38.9, (34, T): 42.4, (50, F): 40.2, (50, T): 43.7}),
    'crosskd_strategy.yaml': ('crosskd:table10', ('strategy',), {
        ('a',): 38.7, ('b',): 35.4, ('c',): 34.5, ('d',): 32.5}),
    'crosskd_cls_loss.yaml': ('crosskd:table11', ('cls_loss',), {
        ('bce_pos',): 36.3, ('bce_neg',): 36.2, ('bce_all',): 36.9, ('qfl_all',): 38.7}),
}


@pytest.fixture(scope='module')
def file_grids():
    """Every sweep file's grid from W&B's engine, in one call (the engine checks each file against its schema)."""
    return grids({path.name: load_sweep_file(path) for path in SWEEP_FILES})


def test_every_ablation_table_has_a_sweep_file():
    assert sorted(p.name for p in SWEEP_FILES) == sorted(PAPER)
    with_params = {table for table, spec in SPECS.items() if any(r.params for r in spec.rows)}
    assert with_params == {table for table, _, _ in PAPER.values()}


@pytest.mark.parametrize('path', SWEEP_FILES, ids=lambda p: p.stem)
def test_sweep_file_is_wandbs_format_and_its_grid_is_the_papers_rows(path, file_grids):
    table, names, paper = PAPER[path.name]
    config = load_sweep_file(path)
    assert config['method'] == 'grid' and config['metric'] == {'name': 'coco/bbox_mAP', 'goal': 'maximize'}
    assert config['program'] and config['command'][-3:] == ['-m', 'repro.sweep', '${args}']
    params = config['parameters']
    assert params['table'] == {'value': table} and params['profile'] == {'value': 'tiny'}
    assert set(params) == {'table', 'profile', *names}
    runs = file_grids[path.name]
    assert sorted(tuple(run[n] for n in names) for run in runs) == sorted(paper)  # exactly the paper's values
    points = [point(run, specs=SPECS) for run in runs]
    spec = SPECS[table]
    assert sorted(pt.row.id for pt in points) == sorted(r.id for r in spec.rows if r.params)  # every row once
    for run, pt in zip(runs, points):
        assert pt.spec.id == table and pt.profile == 'tiny'
        assert pt.row.published['AP'] == paper[tuple(run[n] for n in names)], pt.row.id


@pytest.mark.parametrize('change, message', [
    (dict(table='pgd:table6a'), "breaks W&B's sweep schema"),  # an unknown top-level key
    (dict(metric={'name': 'coco/bbox_mAP', 'goal': 'maximise'}), "breaks W&B's sweep schema"),
    (dict(method='random'), 'an offline sweep needs `method: grid`'),
])
def test_engine_rejects_what_wandb_rejects(change, message):
    config = {**load_sweep_file(REPO / 'sweeps/k_ablation.yaml'), **change}
    with pytest.raises(ReproError, match=message):
        grid(config, 'k_ablation.yaml')


def _table_run(table: str, row_id: str):
    """The run `python -m repro.run TABLE` plans for one row."""
    return next(r for r in plan(SPECS[table], 'tiny', check_data=False) if f'{table}/{row_id}' in r.rows)


def _agent_args(args: dict) -> list[str]:
    """The argument list `wandb agent` builds for a run (its ${args} macro), by W&B's own code."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command_args
    return create_sweep_command_args({'args': args})['args']


def _param_file(path: Path, args: dict) -> Path:
    """The parameter file `wandb agent` writes for a run ($WANDB_SWEEP_PARAM_PATH), by W&B's own code."""
    from wandb.sdk.lib.config_util import save_config_file_from_dict
    save_config_file_from_dict(str(path), args)
    return path


def _point_run(params: dict):
    pt = point(params, specs=SPECS)
    return next(r for r in plan(pt.narrowed, pt.profile, check_data=False) if f'{pt.spec.id}/{pt.row.id}' in r.rows)


@pytest.mark.parametrize('values, row_id, overrides', [
    ({'table': 'pgd:table6a', 'profile': 'tiny', 'k': 15}, 'k15',
     ('+optim_wrapper.clip_grad.max_norm=35', '+optim_wrapper.clip_grad.norm_type=2',  # the table's defaults
      'distill.terms.cls.guide.k=15', 'distill.terms.reg.guide.k=15')),
    ({'table': 'pgd:table6b', 'profile': 'tiny', 'detector': 'atss', 'alpha': 0.07}, 'atss_a0_07',
     ('+optim_wrapper.clip_grad.max_norm=35', '+optim_wrapper.clip_grad.norm_type=2',  # the table's defaults
      'distill.terms.cls.loss.alpha=0.07', 'distill.terms.reg.loss.alpha=0.07')),
])
def test_agent_call_in_both_forms_is_the_table_rows_run(values, row_id, overrides, tmp_path, monkeypatch):
    args = {name: {'value': value} for name, value in values.items()}
    argv = _agent_args(args)
    assert f"--{list(values)[-1]}={list(values.values())[-1]}" in argv  # e.g. --k=15
    expected = _table_run(values['table'], row_id)
    monkeypatch.delenv(PARAM_FILE_ENV, raising=False)
    by_args = _point_run(agent_params(argv))
    monkeypatch.setenv(PARAM_FILE_ENV, str(_param_file(tmp_path / 'config-run1.yaml', args)))
    by_file = _point_run(agent_params([]))
    by_both = _point_run(agent_params(argv))  # what an agent's default command gives: both
    for run in (by_args, by_file, by_both):
        assert (run.key, run.config, run.overrides, run.work_dir) == (
            expected.key, expected.config, expected.overrides, expected.work_dir)
    assert expected.overrides == overrides and expected.config.startswith('configs/methods/pgd_')
    terms = by_file.compiled.cfg.distill.terms  # the resolved config (the method's defaults: k 30, alpha 0.08)
    if 'k' in values:
        assert terms.cls.guide.k == terms.reg.guide.k == 15
    else:
        assert terms.cls.loss.alpha == terms.reg.loss.alpha == 0.07
    with pytest.raises(ReproError, match='in the arguments but'):
        agent_params([f'--table={values["table"]}', '--profile=coco'])


def test_the_cli_takes_the_agents_command(capsys, monkeypatch):
    """k_ablation.yaml's command, with its macros filled in as `wandb agent` fills them, runs the table row k30."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args
    monkeypatch.delenv(PARAM_FILE_ENV, raising=False)
    args = {'table': {'value': 'pgd:table6a'}, 'profile': {'value': 'tiny'}, 'k': {'value': 30}}
    macros = {**create_sweep_command_args({'args': args}), 'env': ['/usr/bin/env'], 'interpreter': ['python']}
    command = []
    for part in create_sweep_command(load_sweep_file(REPO / 'sweeps/k_ablation.yaml')['command']):
        command += macros[part[2:-1]] if part.startswith('${') else [part]
    assert command == ['/usr/bin/env', 'python', '-m', 'repro.sweep', '--table=pgd:table6a', '--profile=tiny',
                       '--k=30']
    sweep_main([*command[4:], '--dry-run'])
    out = capsys.readouterr().out
    assert out.startswith(f"pgd:table6a k=30: row k30 (30), run {_table_run('pgd:table6a', 'k30').key} (tiny)")
    assert 'distill.terms.cls.guide.k=30' in out and 'atss_r101' in out  # its plan: the teacher run first


@pytest.mark.parametrize('argv, message', [
    (['--table=pgd:table6a', '--k=31'], r'pgd:table6a has no row with k=31; its rows have k in \{1, 5, 9, 15, 30'),
    (['--table=pgd:table6a', '--kk=30'], 'unknown parameter'),
    (['--table=pgd:table6b', '--alpha=0.05'], 'missing parameter.*detector'),
    (['--k=30'], "needs the parameter 'table'"),
    (['--table=pgd:table1', '--k=30'], 'pgd:table1 has no sweep parameters'),
    (['--table=pgd:table6a', '--k=30', 'k'], "unexpected argument 'k'"),
])
def test_bad_sweep_parameters_are_one_line_errors(argv, message, monkeypatch):
    monkeypatch.delenv(PARAM_FILE_ENV, raising=False)
    with pytest.raises(ReproError, match=message):
        sweep_main(argv)


def test_only_the_rows_run_logs_into_the_agents_wandb_run(monkeypatch, tmp_path):
    from repro.plan.compile import compile_config
    from repro.training.tracking import AGENT_RUN_ENV, add_wandb
    compiled = compile_config(REPO / 'configs/detectors/gfl_r50.py', 'tiny', FAST, check_data=False)
    monkeypatch.setenv('WANDB_SWEEP_ID', 'sweep01')
    monkeypatch.setenv('WANDB_RUN_ID', 'agentrun01')

    def backend(agent_key: str) -> dict:
        monkeypatch.setenv(AGENT_RUN_ENV, agent_key)
        cfg = compiled.cfg.copy()
        cfg.visualizer.vis_backends = []
        add_wandb(cfg, compiled, tmp_path, 'offline', ['pgd:table6a/k30'], 'distilled')
        return cfg.visualizer.vis_backends[-1]

    own = backend(compiled.run_key)
    assert own['agent_run'] and 'id' not in own['init_kwargs'] and 'project' not in own['init_kwargs']
    other = backend('a-teacher-key')
    assert not other['agent_run'] and other['init_kwargs']['id'].startswith(compiled.run_key + '-')


# --- end to end: tiny runs of a spec of our own ----------------------------------------------------------------
TEACHER = FAST + ['train_cfg.max_epochs=1']
DISTILLED = TEACHER + ['teacher.config=configs/detectors/gfl_r50.py', f'+teacher.overrides={TEACHER!r}']


@pytest.fixture
def layer_table(tmp_path):
    """A table of a teacher and two CrossKD layers of fast runs, and a sweep over the two layers."""
    rows = [dict(id='teacher', label='T', role='teacher', published=dict(AP=40.2),
                 run=dict(config='configs/detectors/gfl_r50.py', overrides=TEACHER))]
    rows += [dict(id=f'l{i}', label=str(i), role='distilled', params=dict(layer=i), published=dict(AP=ap),
                  run=dict(config='configs/methods/crosskd_gfl.py', overrides=DISTILLED + [f'distill.layer={i}']))
             for i, ap in ((0, 38.2), (3, 38.7))]
    spec_path = tmp_path / 'crosskd_table99.yaml'
    spec_path.write_text(yaml.safe_dump(dict(version=1, paper='crosskd', number='99', title='Layers',
                                             description='Fast runs.', metrics=['AP'], rows=rows)))
    sweep = {**load_sweep_file(REPO / 'sweeps/crosskd_layer_position.yaml'),
             'parameters': {'table': {'value': str(spec_path)}, 'profile': {'value': 'tiny'},
                            'layer': {'values': [0, 3]}}}
    sweep_path = tmp_path / 'layers.yaml'
    sweep_path.write_text(yaml.safe_dump(sweep))
    return load_spec(spec_path), sweep_path


def _cli(*args, **env):
    import os
    return subprocess.run([PYTHON, '-m', *args], cwd=REPO, capture_output=True, text=True, timeout=900,
                          env={**os.environ, **env})


@pytest.mark.slow
def test_offline_sweep_trains_both_runs_and_the_table_reuses_them(layer_table, tmp_path, monkeypatch):
    spec, sweep_path = layer_table
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    proc = _cli('repro.sweep', str(sweep_path), '--wandb', 'disabled')
    assert proc.returncode == 0, proc.stderr[-3000:]
    teacher, l0, l3 = plan(spec, 'tiny')  # the table's runs, as repro.run plans them
    records = {run.key: read_record(run.work_dir) for run in (teacher, l0, l3)}
    assert all(r and r['status'] == 'done' for r in records.values())
    assert records[l0.key]['rows'] == ['crosskd:table99/l0'] and records[l3.key]['rows'] == ['crosskd:table99/l3']
    assert records[teacher.key]['role'] == 'teacher'  # trained first, for both layers
    assert min(records[l0.key]['started'], records[l3.key]['started']) >= records[teacher.key]['started']
    assert 'crosskd:table99 (tiny): rows l0, l3' in proc.stdout.splitlines()[0]
    ap = {run.key: records[run.key]['metrics']['AP'] for run in (l0, l3)}
    table = proc.stdout[proc.stdout.index('# CrossKD Table 99: Layers'):]  # the report's Markdown
    assert f'| 38.2 | {ap[l0.key]:.1f} (' in table and f'| 38.7 | {ap[l3.key]:.1f} (' in table

    again = _cli('repro.run', str(spec.path), '--wandb', 'disabled')
    assert again.returncode == 0, again.stderr[-3000:]
    assert {run.key: read_record(run.work_dir) for run in (teacher, l0, l3)} == records  # nothing retrained
    assert f'| 38.2 | {ap[l0.key]:.1f} (' in again.stdout and f'| 38.7 | {ap[l3.key]:.1f} (' in again.stdout


@pytest.mark.slow
def test_under_an_agent_the_row_logs_into_the_agents_run_and_its_teacher_does_not(layer_table, tmp_path,
                                                                                 monkeypatch):
    from wandb_files import read_offline_run
    spec, _ = layer_table
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    monkeypatch.setenv('WANDB_DIR', str(tmp_path / 'agent'))
    (tmp_path / 'agent').mkdir()
    args = {'table': {'value': str(spec.path)}, 'profile': {'value': 'tiny'}, 'layer': {'value': 3}}
    monkeypatch.setenv(PARAM_FILE_ENV, str(_param_file(tmp_path / 'config-agentrun01.yaml', args)))
    monkeypatch.setenv('WANDB_SWEEP_ID', 'sweep01')
    monkeypatch.setenv('WANDB_RUN_ID', 'agentrun01')
    sweep_main([*_agent_args(args), '--wandb', 'offline'])  # the teacher run is trained first, in this process
    teacher, _, l3 = plan(spec, 'tiny')
    assert read_record(teacher.work_dir)['status'] == read_record(l3.work_dir)['status'] == 'done'
    (teacher_run,) = [read_offline_run(p) for p in teacher.work_dir.glob('wandb/offline-run-*/run-*.wandb')]
    (row_run,) = [read_offline_run(p) for p in l3.work_dir.glob('wandb/offline-run-*/run-*.wandb')]
    assert teacher_run['run'].run_id.startswith(teacher.key + '-') and not teacher_run['run'].sweep_id
    assert row_run['run'].run_id == 'agentrun01' and row_run['run'].sweep_id == 'sweep01'
    assert any('loss_kd_cls' in h for h in row_run['history'])  # the distilled run's losses in the agent's run
    assert any('loss' in h for h in teacher_run['history']) and not any('loss_kd_cls' in h for h in
                                                                         teacher_run['history'])

    # another agent run of the same point: nothing is trained, the recorded metrics go to the agent's new run
    monkeypatch.setenv('WANDB_RUN_ID', 'agentrun02')
    sweep_main([*_agent_args(args), '--wandb', 'offline'])
    (reused,) = [read_offline_run(p) for p in (tmp_path / 'agent').glob('wandb/offline-run-*/run-*.wandb')]
    assert reused['run'].run_id == 'agentrun02'
    ap = read_record(l3.work_dir)['metrics']['AP']
    assert [h['coco/bbox_mAP'] for h in reused['history'] if 'coco/bbox_mAP' in h] == [pytest.approx(ap / 100)]


def test_a_missing_engine_says_how_to_install_it(monkeypatch, tmp_path):
    from repro.plan import sweep_engine
    monkeypatch.setattr(sweep_engine, 'DEFAULT_VENV', tmp_path / 'no-engine')
    sweep_engine.engine_python.cache_clear()
    try:
        with pytest.raises(ReproError, match=r'not installed: run `python -m repro.sweep --setup-engine`'):
            grid(load_sweep_file(REPO / 'sweeps/k_ablation.yaml'), 'k_ablation.yaml')
        monkeypatch.setenv(sweep_engine.PYTHON_ENV, PYTHON)  # repro's own Python has no `sweeps`
        with pytest.raises(ReproError, match='cannot import the `sweeps` package'):
            grid(load_sweep_file(REPO / 'sweeps/k_ablation.yaml'), 'k_ablation.yaml')
    finally:
        sweep_engine.engine_python.cache_clear()


@pytest.mark.parametrize('metric, message', [
    ({'name': 'val/AP', 'goal': 'maximize'}, r"metric.name='val/AP' is never logged by a run; choose one of "
                                             r'coco/bbox_mAP, coco/bbox_mAP_50'),
    ('coco/bbox_mAP', "metric.name=None is never logged"),
    ({'name': 'coco/bbox_mAP', 'goal': 'max'}, "metric.goal='max': choose maximize or minimize"),
])
def test_a_sweep_metric_the_runs_never_log_is_refused(tmp_path, metric, message):
    path = tmp_path / 'sweep.yaml'
    path.write_text(yaml.safe_dump({**load_sweep_file(REPO / 'sweeps/k_ablation.yaml'), 'metric': metric}))
    with pytest.raises(ReproError, match=message):
        load_sweep_file(path)
