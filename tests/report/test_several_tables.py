"""`python -m repro.run A B ...` (or `all`): the tables' runs as one plan, each run once, and each table's report
written as soon as its own runs have settled, while the other tables' runs go on."""
import pytest
import yaml

from conftest import FAST
from report_store import write_done
from repro.errors import ReproError
from repro.run import build_parser, find_tables, run_tables
from repro.tables.spec import load_all, load_spec

TEACHER = FAST + ['train_cfg.max_epochs=1']
DISTILLED = TEACHER + ['teacher.config=configs/detectors/gfl_r50.py', f'+teacher.overrides={TEACHER!r}']
STUDENT = TEACHER + ['optim_wrapper.optimizer.lr=0.015']


def spec_file(folder, number: str, rows):
    data = dict(version=1, paper='crosskd', number=number, title=f'Table {number}', description='Fast runs.',
                metrics=['AP', 'AP50'],
                rows=[dict(id=i, label=i.upper(), role=role, run=dict(config=config, overrides=overrides),
                           published=dict(AP=None, AP50=None)) for i, role, config, overrides in rows])
    path = folder / f'crosskd_table{number}.yaml'
    path.write_text(yaml.safe_dump(data))
    return load_spec(path)


@pytest.fixture
def two_tables(tmp_path, monkeypatch):
    """crosskd:table91 (teacher, CrossKD) and crosskd:table92 (the same CrossKD run, and a student of its own)."""
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'store'))
    monkeypatch.setenv('REPRO_REPORTS', str(tmp_path / 'reports'))
    crosskd = ('crosskd', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED)
    first = spec_file(tmp_path, '91', [('teacher', 'teacher', 'configs/detectors/gfl_r50.py', TEACHER), crosskd])
    second = spec_file(tmp_path, '92', [crosskd, ('student', 'student', 'configs/detectors/gfl_r18.py', STUDENT)])
    return first, second


def args(*tables, extra=()):
    return build_parser().parse_args([*(str(t.path) for t in tables), '--profile', 'tiny', '--wandb', 'disabled',
                                      *extra])


def fake_training(monkeypatch, written, fail_report=None):
    """launch() replaced by one that finishes the runs in plan order, telling `settled` after each, as run_local
    does; write_report by one that notes which table was written after how many runs."""
    import repro.report
    import repro.runs.launch
    launched = []

    def launch(runs, profile, args, title, settled=None):
        launched.extend(runs)
        outcome = {}
        for run in runs:
            write_done(run, run.seed, {'AP': 20.0, 'AP50': 30.0})
            outcome[run.key] = 'done'
            settled(outcome)
        return outcome

    def write_report(spec, runs, profile, **kwargs):
        if spec.id == fail_report:
            raise ValueError('no figure')
        written.append((spec.id, sum(r.status() == 'done' for r in launched), [r.key for r in runs]))
    monkeypatch.setattr(repro.runs.launch, 'launch', launch)
    monkeypatch.setattr(repro.report, 'write_report', write_report)
    return launched


def test_shared_runs_train_once_and_each_report_comes_when_its_runs_are_done(two_tables, monkeypatch):
    first, second = two_tables
    written = []
    launched = fake_training(monkeypatch, written)
    run_tables([first, second], args(first, second))
    assert [r.role for r in launched] == ['teacher', 'distilled', 'student']  # the CrossKD run once, teacher first
    assert launched[1].rows == ['crosskd:table91/crosskd', 'crosskd:table92/crosskd']
    assert launched[1].needs == launched[0].key
    # table 91 was written when its two runs were done, before table 92's student had trained
    assert [(table, done) for table, done, _ in written] == [('crosskd:table91', 2), ('crosskd:table92', 3)]
    assert written[0][2] == [r.key for r in launched[:2]]
    assert written[1][2] == [r.key for r in launched]  # table 92's CrossKD row needs the teacher too


def test_a_report_that_fails_stops_no_training_and_is_named_at_the_end(two_tables, monkeypatch):
    first, second = two_tables
    written = []
    launched = fake_training(monkeypatch, written, fail_report='crosskd:table91')
    with pytest.raises(ReproError, match=r'^the report of crosskd:table91 could not be written \(crosskd:table91: '
                                         r'ValueError: no figure\); python -m repro.report crosskd:table91 '):
        run_tables([first, second], args(first, second))
    assert all(r.status() == 'done' for r in launched) and [w[0] for w in written] == ['crosskd:table92']


def test_rerun_and_own_datasets_go_with_one_table_only(two_tables):
    first, second = two_tables
    with pytest.raises(ReproError, match=r'^--rerun names rows of one table: run that table on its own'):
        run_tables([first, second], args(first, second, extra=['--rerun', 'crosskd']))


def test_all_is_every_table_of_the_list_once():
    every = list(load_all())
    assert [s.id for s in find_tables(['all'])] == every
    assert [s.id for s in find_tables(['pgd:table2', 'all', 'table2'])] == \
        ['pgd:table2'] + [i for i in every if i != 'pgd:table2']


@pytest.mark.slow
def test_two_tables_train_for_real_with_two_jobs(two_tables, tmp_path):
    """The command line, two processes at a time across both tables: every run trains once, both reports."""
    import os
    import subprocess
    from conftest import PYTHON, REPO
    from repro.plan.dag import plan
    from repro.runs.store import read_record
    first, second = two_tables
    proc = subprocess.run([PYTHON, '-m', 'repro.run', str(first.path), str(second.path), '--profile', 'tiny',
                           '--wandb', 'disabled', '--jobs', '2'], cwd=REPO, env={**os.environ, 'OMP_NUM_THREADS': '1'},
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    runs = {r.key: r for spec in (first, second) for r in plan(spec, 'tiny')}
    assert len(runs) == 3
    for run in runs.values():
        starts = sum(log.read_text().count('Checkpoints will be saved to') for log in run.work_dir.glob('*/*.log'))
        assert read_record(run.work_dir)['status'] == 'done' and starts == 1, run.name
    crosskd = next(r for r in runs.values() if r.role == 'distilled')
    assert read_record(crosskd.work_dir)['rows'] == ['crosskd:table91/crosskd', 'crosskd:table92/crosskd']
    for spec in (first, second):
        md = (tmp_path / 'reports' / 'tiny' / f'{spec.path.stem}.md').read_text()
        ap = f"{read_record(crosskd.work_dir)['metrics']['AP']:.1f}"
        assert f'| — | {ap} |' in next(li for li in md.splitlines() if li.startswith('| CROSSKD |'))
    assert '2 tables (tiny)' in proc.stdout
