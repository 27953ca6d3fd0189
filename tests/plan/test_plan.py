"""Planning a table (dedup, dependencies, determinism) and running it locally, on a small spec of fast runs."""
import json

import pytest
import yaml

from conftest import FAST
from repro.runs.launch import run_local, train_command
from repro.plan.dag import plan
from repro.runs.store import read_record
from repro.tables.spec import load_spec

TEACHER = FAST + ['train_cfg.max_epochs=1']
DISTILLED = [o for o in TEACHER] + ['teacher.config=configs/detectors/gfl_r50.py', f'+teacher.overrides={TEACHER!r}']


def spec_file(tmp_path, rows):
    data = dict(version=1, paper='crosskd', number='99', title='A test table', description='Fast runs.',
                metrics=['AP', 'AP50'], rows=rows)
    path = tmp_path / 'crosskd_table99.yaml'
    path.write_text(yaml.safe_dump(data))
    return load_spec(path)


def row(id_, role, config, overrides, ap=None):
    return dict(id=id_, label=id_.upper(), role=role, run=dict(config=config, overrides=overrides),
                published=dict(AP=ap, AP50=None))


@pytest.fixture
def spec(tmp_path):
    return spec_file(tmp_path, [
        row('teacher', 'teacher', 'configs/detectors/gfl_r50.py', TEACHER, 40.2),
        row('crosskd', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED, 38.7),
        row('again', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED),  # the same run as 'crosskd'
    ])


def test_plan_dedupes_orders_teachers_first_and_is_deterministic(spec):
    runs = plan(spec, 'tiny')
    assert [r.role for r in runs] == ['teacher', 'distilled']
    teacher, student = runs
    assert teacher.rows == ['crosskd:table99/teacher']
    assert student.rows == ['crosskd:table99/crosskd', 'crosskd:table99/again'] and student.needs == teacher.key
    again = plan(spec, 'tiny')
    assert [(r.key, r.rows, r.needs) for r in again] == [(r.key, r.rows, r.needs) for r in runs]
    seeded = plan(spec, 'tiny', seeds=2)
    assert len(seeded) == 4 and len({r.key for r in seeded}) == 4  # each row twice; the teacher's seed-0 run shared
    assert {r.seed for r in seeded if r.role == 'distilled'} == {0, 1}


def test_train_command_names_the_run_exactly(spec):
    _, student = plan(spec, 'tiny')
    cmd = train_command(student, 'tiny', None, 'disabled')
    assert cmd[1:4] == ['-m', 'repro.train', 'configs/methods/crosskd_gfl.py']
    assert '--row=crosskd:table99/again' in cmd and cmd[cmd.index('--work-dir') + 1] == str(student.work_dir)


@pytest.mark.slow
@pytest.mark.parametrize('jobs', [1, 2])
def test_local_launch_trains_the_teacher_first_and_records_rows(spec, jobs, tmp_path, monkeypatch):
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / f'work-{jobs}'))
    runs = plan(spec, 'tiny')
    outcome = run_local(runs, 'tiny', jobs=jobs, wandb='disabled')
    assert list(outcome.values()) == ['done', 'done']
    teacher, student = (read_record(r.work_dir) for r in runs)
    assert teacher['rows'] == ['crosskd:table99/teacher'] and teacher['role'] == 'teacher'
    assert student['rows'] == ['crosskd:table99/crosskd', 'crosskd:table99/again']
    assert student['started'] >= teacher['started']  # the distilled run waited for its teacher
    assert student['teacher_ap'] == teacher['metrics']['AP']  # its teacher's own run measured it
    from repro.report.tables.results import collect
    results = {r.row.id: r for r in collect(spec, runs, 'tiny')}
    assert results['teacher'].values['AP'] == [teacher['metrics']['AP']] and results['teacher'].delta is not None
    assert results['again'].values == results['crosskd'].values == {m: [student['metrics'][m]] for m in spec.metrics}
    assert run_local(plan(spec, 'tiny'), 'tiny', jobs=jobs) == {r.key: 'done' for r in runs}  # nothing retrained
    assert json.loads((runs[1].work_dir / 'result.json').read_text())['wall_time_s'] == student['wall_time_s']


@pytest.fixture
def one_run(tmp_path):
    return spec_file(tmp_path, [row('student', 'student', 'configs/detectors/gfl_r50.py', TEACHER)])


@pytest.mark.slow
def test_torchrun_trains_a_run_on_two_cpu_processes(one_run, tmp_path, monkeypatch):
    from repro.runs.launch import run_torchrun
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    runs = plan(one_run, 'tiny')
    assert run_torchrun(runs, 'tiny', wandb='disabled', cpu=True, gpus=2, master_port=29517) == {runs[0].key: 'done'}
    record = read_record(runs[0].work_dir)
    assert record['status'] == 'done' and record['rows'] == ['crosskd:table99/student']
    logs = '\n'.join(p.read_text() for p in runs[0].work_dir.glob('*/*.log'))
    assert 'world_size: 2' in logs or "'world_size': 2" in logs or 'Distributed launcher: pytorch' in logs


@pytest.mark.slow
def test_slurm_launcher_runs_jobs_with_submitits_local_executor(spec, tmp_path, monkeypatch):
    from repro.runs.slurm import run_slurm, slurm_executor
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    runs = plan(spec, 'tiny')
    executor = slurm_executor(tmp_path / 'jobs', cluster='local', gpus_per_node=0, time_min=20,
                              slurm_args=['account=lab'])
    outcome = run_slurm(runs, 'tiny', executor, wandb='disabled')
    assert outcome == {r.key: 'done' for r in runs}  # two waves: the teacher, then the distilled run
    submitted = sorted((tmp_path / 'jobs').glob('*/*_submitted.pkl'), key=lambda p: p.stat().st_mtime)
    teacher_done = (runs[0].work_dir / 'result.json').stat().st_mtime
    assert submitted[-1].stat().st_mtime >= teacher_done  # the distilled job was submitted after its teacher ended
    teacher, student = (read_record(r.work_dir) for r in runs)
    assert student['started'] >= teacher['started']
    assert len(list((tmp_path / 'jobs').glob('*/*_submitted.pkl'))) == 2


def test_dry_run_of_the_coco_profile_plans_without_coco(tmp_path):
    """The plan and its cost print without the data; the exit status and one line say the run would stop."""
    import subprocess
    from conftest import PYTHON, REPO
    env = {**__import__('os').environ, 'REPRO_COCO_ROOT': str(tmp_path / 'no-coco-here')}
    proc = subprocess.run([PYTHON, '-m', 'repro.run', 'pgd:table6a', '--dry-run', '--profile', 'coco'], cwd=REPO,
                          capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines() == [
        f"error: no COCO 2017 at {tmp_path / 'no-coco-here'}: expected annotations/instances_train2017.json, "
        'annotations/instances_val2017.json, train2017, val2017 there. Pass --data-root DIR (or set REPRO_COCO_ROOT), '
        'or use --profile tiny for the embedded synthetic dataset'], proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].startswith('pgd:table6a: ') and 'runs under the coco profile' in lines[0]
    assert 'GPU-hours' in lines[-1] and 'to run' in lines[-1]
    assert not (tmp_path / 'no-coco-here').exists()  # nothing was written


@pytest.mark.slow
def test_two_runners_on_one_store_train_each_run_once(tmp_path, monkeypatch):
    """Two `repro.run` processes on the same table and store: every run is trained by exactly one of them, the
    other waits for it, and both end with the whole table."""
    import os
    import subprocess
    from conftest import PYTHON, REPO
    spec = spec_file(tmp_path, [
        row('teacher', 'teacher', 'configs/detectors/gfl_r50.py', TEACHER),
        row('l0', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED + ['distill.layer=0']),
        row('l1', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED + ['distill.layer=1']),
    ])
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'store'))
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    cmd = [PYTHON, '-m', 'repro.run', str(spec.path), '--profile', 'tiny', '--wandb', 'disabled']
    procs = [subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(2)]
    outputs = [proc.communicate(timeout=900)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], outputs
    runs = plan(spec, 'tiny')
    assert len(runs) == 3
    for run in runs:
        record = read_record(run.work_dir)
        assert record['status'] == 'done' and record['rows'] == [f'crosskd:table99/{run.rows[0].split("/")[1]}']
        starts = sum(log.read_text().count('Checkpoints will be saved to') for log in run.work_dir.glob('*/*.log'))
        assert starts == 1, f'{run.name} {run.key} was trained {starts} times'
        ap = f"{record['metrics']['AP']:.1f}"
        for out in outputs:  # both runners print the table with every run's result
            label = run.rows[0].split('/')[1].upper()
            line = next(li for li in out.splitlines() if li.startswith(f'| {label} |'))
            assert f'| — | {ap} |' in line, (line, ap)


def test_coco_teacher_rows_evaluate_zoo_weights_unless_the_spec_trains_them(tmp_path):
    trained = row('trained', 'teacher', 'configs/detectors/gfl_r50.py', ['train_cfg.max_epochs=24'])
    trained['run']['train'] = True
    spec = spec_file(tmp_path, [
        row('zoo', 'teacher', 'configs/detectors/gfl_r50.py', []),
        trained,
        row('own', 'teacher', 'configs/detectors/gfl_r18.py', []),  # no zoo weights: trained
        row('student', 'student', 'configs/detectors/gfl_r50.py', []),
    ])
    zoo, trained, own, student = plan(spec, 'coco', check_data=False)
    assert zoo.evaluate_from == zoo.compiled.cfg.zoo_checkpoint and zoo.evaluate_from.startswith('https://')
    assert trained.evaluate_from is None and own.evaluate_from is None and student.evaluate_from is None
    assert zoo.key != student.key  # the same detector: evaluating the zoo's weights is not training it
    assert train_command(zoo, 'coco', None, None)[-2:] == ['--evaluate-from', zoo.evaluate_from]
    assert all(r.evaluate_from is None for r in plan(spec, 'tiny', check_data=False))


def test_a_spec_file_of_ones_own_runs_and_its_train_flag_is_checked(tmp_path):
    from repro.errors import ReproError
    from repro.tables.spec import resolve
    spec = spec_file(tmp_path, [row('teacher', 'teacher', 'configs/detectors/gfl_r50.py', [])])
    found, note = resolve(str(spec.path))
    assert found.id == 'crosskd:table99' and found.rows == spec.rows and 'crosskd:table99' in note
    bad = row('teacher', 'teacher', 'configs/detectors/gfl_r50.py', [])
    bad['run']['train'] = 'yes'
    with pytest.raises(ReproError, match=r'rows\[0\] \(teacher\).run.train: expected true or false'):
        spec_file(tmp_path, [bad])


def test_a_table_goes_on_past_a_run_that_crashes(spec, tmp_path, monkeypatch):
    """Any error in one run (here the teacher's: a missing module, say) marks it failed with its reason; every run
    that does not need it still trains, and the ones that do are skipped, not tried."""
    import repro.training.runner
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'store'))
    both = spec_file(tmp_path, [row('teacher', 'teacher', 'configs/detectors/gfl_r50.py', TEACHER),
                                row('crosskd', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED),
                                row('student', 'student', 'configs/detectors/gfl_r18.py', TEACHER)])
    runs = plan(both, 'tiny')
    teacher = next(r for r in runs if r.role == 'teacher')
    student = next(r for r in runs if r.role == 'student')
    real = repro.training.runner.run

    def crash_the_teacher(compiled, *args, **kwargs):
        if compiled.run_key == teacher.key:
            raise ModuleNotFoundError("No module named 'torchvision'")
        return real(compiled, *args, **kwargs)
    monkeypatch.setattr(repro.training.runner, 'run', crash_the_teacher)
    outcome = run_local(runs, 'tiny', wandb='disabled')
    assert outcome[teacher.key] == 'failed' and outcome[student.key] == 'done'
    assert [v for k, v in outcome.items() if k not in (teacher.key, student.key)] == ['skipped']
    record = read_record(teacher.work_dir)
    assert record['status'] == 'failed' and record['reason'] == "ModuleNotFoundError: No module named 'torchvision'"
