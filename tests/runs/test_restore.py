"""Kept records (repro.runs.restore): copied out by a report, put back with --restore as finished runs without
weights, and taken back where a run still to train needs the weights (a teacher)."""
import json

import pytest

from repro.errors import ReproError
from repro.plan.dag import PlannedRun
from repro.report.figures.checkpoints import state_of, weights_of
from repro.report.tables.results import collect
from repro.runs.atomic import atomic_write_json
from repro.runs.restore import KEPT_DYNAMICS, keep_records, restorable, restore, retrain_teachers
from repro.runs.store import (DYNAMICS_FILE, RESTORED, WEIGHTS_FILE, drop_restored, read_dynamics, read_record,
                              write_record)
from repro.tables.spec import resolve


def planned(tmp_path, name, key, seed=0, needs=None):
    return PlannedRun(key, f'configs/{name}.py', (), seed, 'distilled' if needs else 'teacher',
                      tmp_path / 'store' / f'{name}-{key}', needs=needs)


def finish(run, ap, weights=True):
    run.work_dir.mkdir(parents=True, exist_ok=True)
    write_record(run.work_dir, {'run_key': run.key, 'status': 'done', 'seed': run.seed, 'metrics': {'AP': ap}})
    if weights:
        (run.work_dir / WEIGHTS_FILE).write_bytes(b'weights')


@pytest.fixture
def table(tmp_path):
    teacher = planned(tmp_path, 'teacher', 'aaaa')
    students = [planned(tmp_path, 'student', f'bbb{seed}', seed, needs='aaaa') for seed in (0, 1)]
    return [teacher, *students]


def test_a_report_keeps_the_records_of_finished_runs_only(tmp_path, table):
    teacher, first, second = table
    finish(teacher, 30.0)
    finish(first, 20.0)
    second.work_dir.mkdir(parents=True)
    write_record(second.work_dir, {'run_key': second.key, 'status': 'failed', 'reason': 'boom'})
    assert keep_records(table, tmp_path / 'out') == 2
    assert state_of(teacher) == 'done'  # trained here, its weights in the store
    kept = sorted(p.name for p in (tmp_path / 'out' / 'runs').iterdir())
    assert kept == ['student-bbb0.json', 'teacher-aaaa.json']
    assert json.loads((tmp_path / 'out' / 'runs' / 'student-bbb0.json').read_text())['metrics'] == {'AP': 20.0}
    # trained again under the same key: the record kept first stays where the numbers agree, else the store's wins
    out = tmp_path / 'out' / 'runs'
    write_record(teacher.work_dir, {**read_record(teacher.work_dir), 'git_commit': 'later'})
    write_record(first.work_dir, {**read_record(first.work_dir), 'git_commit': 'later', 'metrics': {'AP': 20.5}})
    assert keep_records(table, tmp_path / 'out') == 2
    assert 'git_commit' not in json.loads((out / 'teacher-aaaa.json').read_text())
    assert json.loads((out / 'student-bbb0.json').read_text())['metrics'] == {'AP': 20.5}


def test_kept_records_count_as_finished_runs_without_weights(tmp_path, table):
    kept = tmp_path / 'kept'
    kept.mkdir()
    for run, ap in zip(table, (30.0, 20.0, 21.0)):
        (kept / f'{run.work_dir.name}.json').write_text(json.dumps(
            {'run_key': run.key, 'status': 'done', 'seed': run.seed, 'metrics': {'AP': ap}, RESTORED: 'older'}))
    (kept / 'other-ffff.json').write_text(json.dumps({'run_key': 'ffff', 'status': 'done', 'metrics': {'AP': 1}}))
    assert [r.key for r in restore(table, kept)] == ['aaaa', 'bbb0', 'bbb1']
    assert retrain_teachers(table) == []  # every student is finished: nothing needs the teacher's weights
    assert [run.status() for run in table] == ['done'] * 3
    assert read_record(table[1].work_dir)[RESTORED] == str(kept / 'student-bbb0.json')
    assert weights_of(table[1]) is None  # figures and export need weights: they skip it
    assert state_of(table[1]) == 'done, but a kept record without weights'  # what a figure's note says
    assert not (tmp_path / 'store' / 'other-ffff').exists()
    assert keep_records(table, tmp_path / 'out') == 3  # kept again as trained, without where it was put back from
    assert RESTORED not in json.loads((tmp_path / 'out' / 'runs' / 'student-bbb1.json').read_text())


def test_kept_records_carry_the_training_dynamics_back(tmp_path, table):
    teacher, first, second = table
    for run in table:
        finish(run, 20.0)
    dynamics = {'images': 16, 'epochs': [{'epoch': 0, 'to_teacher/cls': 0.9}, {'epoch': 1, 'to_teacher/cls': 0.5}]}
    atomic_write_json(first.work_dir / DYNAMICS_FILE, dynamics)
    out = tmp_path / 'out'
    (out / 'runs').mkdir(parents=True)
    older = {'run_key': first.key, 'status': 'done', 'seed': 0, 'metrics': {'AP': 20.0}, 'git_commit': 'first'}
    (out / 'runs' / f'{first.work_dir.name}.json').write_text(json.dumps(older))  # kept before it carried dynamics
    assert keep_records(table, out) == 3
    kept = json.loads((out / 'runs' / f'{first.work_dir.name}.json').read_text())
    assert kept == {**older, KEPT_DYNAMICS: dynamics}  # the record first kept, now with its dynamics
    assert KEPT_DYNAMICS not in json.loads((out / 'runs' / f'{second.work_dir.name}.json').read_text())

    for run in table:  # a new machine: the store is gone
        run.work_dir = tmp_path / 'store2' / run.work_dir.name
    assert [r.key for r in restore(table, out / 'runs')] == ['aaaa', 'bbb0', 'bbb1']
    assert read_dynamics(first.work_dir) == dynamics and read_dynamics(second.work_dir) is None
    assert KEPT_DYNAMICS not in read_record(first.work_dir)  # the record is the store's, the dynamics its file
    assert keep_records(table, out) == 3
    assert json.loads((out / 'runs' / f'{first.work_dir.name}.json').read_text()) == kept  # round trip: unchanged


def test_a_dry_run_counts_what_restore_would_put_back_and_writes_nothing(tmp_path, table):
    teacher, first, second = table
    finish(first, 20.0)  # finished in the store: not put back
    kept = tmp_path / 'kept'
    kept.mkdir()
    for run in table:
        (kept / f'{run.work_dir.name}.json').write_text(json.dumps(
            {'run_key': run.key, 'status': 'done', 'seed': run.seed, 'metrics': {'AP': 1.0}}))
    assert [run.key for run, _, _ in restorable(table, kept)] == ['aaaa', 'bbb1']
    assert not teacher.work_dir.exists() and not second.work_dir.exists()
    assert [r.key for r in restore(table, kept)] == ['aaaa', 'bbb1']


def test_a_teacher_put_back_trains_again_where_a_student_still_trains(tmp_path, table):
    teacher, first, second = table
    kept = tmp_path / 'kept'
    kept.mkdir()
    for run in (teacher, first):
        (kept / f'{run.work_dir.name}.json').write_text(json.dumps(
            {'run_key': run.key, 'status': 'done', 'seed': run.seed, 'metrics': {'AP': 25.0}}))
    finish(first, 99.0)  # finished here, with weights: the store's record wins over the kept one
    assert [r.key for r in restore(table, kept)] == ['aaaa']
    assert read_record(first.work_dir)['metrics'] == {'AP': 99.0}
    assert retrain_teachers(table) == [teacher]  # the second student trains, and loads the teacher's weights
    assert teacher.status() == 'stale' and second.status() == 'pending'  # stale: done without weights, retrained
    assert not drop_restored(first.work_dir)  # a record trained here is never dropped
    # a report rendered meanwhile with --restore (another process) does not put the teacher back as finished
    assert restorable(table, kept) == [] and restore(table, kept) == []
    assert teacher.status() == 'stale' and RESTORED not in read_record(teacher.work_dir)


def test_the_report_averages_runs_put_back(tmp_path, table):
    spec, _ = resolve('ext:modern')
    teacher, first, second = table
    for run in (first, second):
        run.rows.append(f'{spec.id}/student')
    kept = tmp_path / 'kept'
    kept.mkdir()
    for run, ap in ((first, 20.0), (second, 22.0)):
        (kept / f'{run.work_dir.name}.json').write_text(json.dumps(
            {'run_key': run.key, 'status': 'done', 'seed': run.seed, 'metrics': {'AP': ap}}))
    restore(table, kept)
    rows = {row.row.id: row for row in collect(spec, table, 'tiny')}
    assert rows['student'].values == {'AP': [20.0, 22.0]} and rows['student'].mean('AP') == 21.0


def test_bad_kept_records_get_one_line(tmp_path, table):
    with pytest.raises(ReproError, match='no such folder'):
        restore(table, tmp_path / 'missing')
    (tmp_path / 'kept').mkdir()
    (tmp_path / 'kept' / 'x.json').write_text('{not json')
    with pytest.raises(ReproError, match='is not a run record'):
        restore(table, tmp_path / 'kept')


def test_a_record_from_another_cpu_model_is_kept_beside_the_first_and_each_machine_restores_its_own(
        tmp_path, table, monkeypatch):
    """A run key is bit-identical on one CPU model only (the tiny ATSS-MobileNetV2 student: 12.2 AP on AMD EPYC,
    10.5 on an Intel Xeon): the other machine's numbers go beside the first record, not over it, and --restore puts
    back the record of the machine it runs on, else the first one."""
    from repro.training import provenance
    teacher = table[0]
    out = tmp_path / 'out'
    for cpu, ap in (('AMD EPYC', 30.0), ('Intel(R) Xeon(R) Processor', 28.0), ('AMD EPYC', 30.0)):
        teacher.work_dir.mkdir(parents=True, exist_ok=True)
        write_record(teacher.work_dir, {'run_key': teacher.key, 'status': 'done', 'seed': 0, 'metrics': {'AP': ap},
                                        'hardware': {'cpu': cpu}})
        (teacher.work_dir / WEIGHTS_FILE).write_bytes(b'weights')
        keep_records([teacher], out)
    kept = {p.name: json.loads(p.read_text())['metrics']['AP'] for p in (out / 'runs').iterdir()}
    assert kept == {'teacher-aaaa.json': 30.0, 'teacher-aaaa@intel-xeon-processor.json': 28.0}
    for here, ap in (('Intel(R) Xeon(R) Processor', 28.0), ('AMD EPYC', 30.0), ('Some ARM core', 30.0)):
        monkeypatch.setattr(provenance, 'cpu_model', lambda here=here: here)
        drop_restored(teacher.work_dir)
        for path in teacher.work_dir.iterdir():
            path.unlink()
        [(run, path, record)] = restorable([teacher], out / 'runs')
        assert record['metrics']['AP'] == ap, here
    # the same CPU model measuring other numbers (the code under the key changed): the newer record replaces it
    write_record(teacher.work_dir, {'run_key': teacher.key, 'status': 'done', 'seed': 0, 'metrics': {'AP': 31.0},
                                    'hardware': {'cpu': 'AMD EPYC'}})
    (teacher.work_dir / WEIGHTS_FILE).write_bytes(b'weights')
    keep_records([teacher], out)
    assert json.loads((out / 'runs' / 'teacher-aaaa.json').read_text())['metrics']['AP'] == 31.0
