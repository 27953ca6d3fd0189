"""A table's report holds exactly the runs its plan names (its rows x the seeds repro.run ran it with, or
--seeds): a finished run of the same config under another seed changes no number and is named in a footnote.
The store is faked: finished records (and empty weights) written where repro.train would write them."""
import statistics

import pandas as pd
import pytest
import yaml

from conftest import FAST
from html_tables import read_tables
from report_store import write_done
from repro.errors import ReproError
from repro.plan.dag import plan
from repro.report.__main__ import main as report_main
from repro.plan.seeds import plan_record_path, record_plan
from repro.tables.spec import load_spec

TEACHER = FAST + ['train_cfg.max_epochs=1']
STUDENT = TEACHER + ['optim_wrapper.optimizer.lr=0.015']
AP = {('teacher', 0): 40.0, ('teacher', 1): 41.0, ('teacher', 2): 42.5,
      ('student', 0): 30.0, ('student', 1): 31.5, ('student', 2): 90.0, ('student', 3): 5.0}
FOOTNOTE = 'STUDENT: 1 more finished run of this config in the store (seed 2) is not part of this plan.'


@pytest.fixture(scope='module')
def table(tmp_path_factory):
    """The spec (a teacher and a student row) and its runs over seeds 0..3, whose keys do not depend on the store."""
    rows = [dict(id=i, label=i.upper(), role=i, run=dict(config='configs/detectors/gfl_r50.py', overrides=o),
                 published=dict(AP=ap, AP50=None)) for i, o, ap in (('teacher', TEACHER, 40.2),
                                                                     ('student', STUDENT, 35.1))]
    path = tmp_path_factory.mktemp('spec') / 'crosskd_table95.yaml'
    path.write_text(yaml.safe_dump(dict(version=1, paper='crosskd', number='95', title='Plan test',
                                        description='Faked runs.', metrics=['AP', 'AP50'], rows=rows)))
    spec = load_spec(path)
    runs = {(r.rows[0].rpartition('/')[2], r.seed): r for r in plan(spec, 'tiny', 4, check_data=False)}
    return spec, runs


@pytest.fixture
def store(table, tmp_path, monkeypatch):
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path / 'work'))
    return table


def finish(runs, row: str, seed: int) -> None:
    """A finished record of the row's run at `seed`, as repro.train leaves it."""
    write_done(runs[(row, seed)], seed, {'AP': AP[row, seed], 'AP50': AP[row, seed] + 9})


def report(spec, out, *flags) -> dict:
    report_main([str(spec.path), '--profile', 'tiny', '--out', str(out), '--wandb', 'disabled', '--no-figures',
                 *flags])
    stem = out / spec.path.stem
    return {'md': stem.with_suffix('.md').read_text(), 'html': stem.with_suffix('.html').read_text(),
            'tex': stem.with_suffix('.tex').read_text(), 'csv': pd.read_csv(stem.with_suffix('.csv'), dtype=str),
            'table': read_tables(stem.with_suffix('.html'))[0].set_index('Row')}


def test_a_finished_run_of_another_seed_changes_no_number_and_gets_a_footnote(store, tmp_path):
    spec, runs = store
    for key in [('teacher', 0), ('teacher', 1), ('student', 0), ('student', 1)]:
        finish(runs, *key)
    record_plan(spec, 'tiny', 2)
    before = report(spec, tmp_path / 'before')
    finish(runs, 'student', 2)  # e.g. `python -m repro.train configs/detectors/gfl_r50.py ... --seed 2`
    after = report(spec, tmp_path / 'after')
    pd.testing.assert_frame_equal(before['csv'].drop(columns='seeds_not_in_plan'),
                                  after['csv'].drop(columns='seeds_not_in_plan'))
    assert [line for line in after['md'].splitlines() if line.startswith('|')] == \
        [line for line in before['md'].splitlines() if line.startswith('|')]
    assert before['table'].equals(after['table'])
    student = after['csv'].set_index('row').loc['student']
    assert float(student['AP_mean']) == pytest.approx(statistics.mean([30.0, 31.5]))
    assert student['n'] == '2' and student['seeds'] == '0 1' and student['seeds_not_in_plan'] == '2'
    assert FOOTNOTE not in before['md'] and FOOTNOTE not in before['html']
    assert f'- {FOOTNOTE}' in after['md'] and f'<p class="footnote">{FOOTNOTE}</p>' in after['html']
    assert 'of this config in the store (seed 2) is not part of this plan.' in after['tex'].split('\\bottomrule')[1]


def test_each_row_names_its_seeds_n_mean_and_std_in_every_format(store, tmp_path):
    spec, runs = store
    for key in [('teacher', 0), ('teacher', 1), ('student', 0)]:  # the student's seed 1 never ran
        finish(runs, *key)
    out = report(spec, tmp_path, '--seeds', '2')
    table = out['table']
    assert table.loc['TEACHER', 'n'] == '2' and table.loc['TEACHER', 'Seeds'] == 'seeds 0, 1'
    assert table.loc['STUDENT', 'n'] == '1' and table.loc['STUDENT', 'Seeds'] == 'seed 0 of 0, 1'
    assert table.loc['TEACHER', 'AP ours'] == f"40.50 ± {statistics.stdev([40.0, 41.0]):.2f} (+0.30)"
    assert '| TEACHER | teacher | 40.2 | 40.50 ± 0.71 (+0.30) | — | 49.50 ± 0.71 | 2 | seeds 0, 1 |' in out['md']
    assert 'Each row is the mean over seeds 0, 1, as asked with --seeds 2; no other run is averaged in.' in out['md']
    csv = out['csv'].set_index('row')
    assert list(csv.loc['teacher', ['n', 'seeds', 'seeds_planned']]) == ['2', '0 1', '0 1']
    assert list(csv.loc['student', ['n', 'seeds', 'seeds_planned']]) == ['1', '0', '0 1']
    assert float(csv.loc['teacher', 'AP_std']) == pytest.approx(statistics.stdev([40.0, 41.0]), abs=1e-4)
    body = out['tex'].split('\\midrule')[1].split('\\bottomrule')[0]
    assert '& 2 & seeds 0, 1 &' in body and '& 1 & seed 0 of 0, 1 &' in body
    assert 'mean over seeds 0, 1' in out['tex'].split('\\caption{')[1]


def test_report_without_seeds_follows_what_repro_run_recorded(store, tmp_path, monkeypatch):
    from repro import report as report_package
    from repro.run import build_parser, run_tables
    spec, runs = store
    for row in ('teacher', 'student'):
        for seed in (0, 1, 2):
            finish(runs, row, seed)
    written = []

    def run(seeds: int) -> None:
        with monkeypatch.context() as m:
            m.setattr('repro.runs.launch.launch', lambda *a, **k: {})  # every run is done: nothing to train
            m.setattr(report_package, 'write_report', lambda *a, **k: written.append(k['seed_plan']))
            run_tables([spec], build_parser().parse_args([str(spec.path), '--profile', 'tiny', '--seeds', str(seeds)]))

    run(2)
    assert plan_record_path(spec, 'tiny').is_file() and [p.seeds for p in written] == [[0, 1]]
    two = report(spec, tmp_path / 'two')['csv'].set_index('row')
    assert list(two['seeds']) == ['0 1', '0 1'] and list(two['seeds_not_in_plan']) == ['2', '2']
    assert float(two.loc['student', 'AP_mean']) == pytest.approx(statistics.mean([30.0, 31.5]))
    assert 'as repro.run last ran this table (' in (tmp_path / 'two' / 'crosskd_table95.md').read_text()
    run(3)
    three = report(spec, tmp_path / 'three')['csv'].set_index('row')
    assert list(three['seeds']) == ['0 1 2', '0 1 2'] and three['seeds_not_in_plan'].isna().all()
    assert float(three.loc['student', 'AP_mean']) == pytest.approx(statistics.mean([30.0, 31.5, 90.0]))


def test_without_seeds_or_a_record_it_reports_seed_0_and_says_so_in_one_line(store, tmp_path, capsys):
    spec, runs = store
    for key in [('teacher', 0), ('teacher', 1), ('student', 0), ('student', 3)]:
        finish(runs, *key)
    out = report(spec, tmp_path)
    notes = [line for line in capsys.readouterr().err.splitlines() if 'seed' in line]
    assert notes == ['note: crosskd:table95 has no plan recorded by repro.run under the tiny profile: reporting '
                     'seed 0 only (pass --seeds N for seeds 0..N-1)']
    csv = out['csv'].set_index('row')
    assert list(csv['n']) == ['1', '1'] and list(csv['seeds_not_in_plan']) == ['1', '3']
    assert float(csv.loc['teacher', 'AP_mean']) == 40.0 and float(csv.loc['student', 'AP_mean']) == 30.0


def test_all_reports_each_table_over_its_recorded_seeds(store, tmp_path, capsys):
    from repro.report.__main__ import build_parser, render_all
    spec, runs = store
    for key in [('teacher', 0), ('teacher', 1), ('student', 0), ('student', 1)]:
        finish(runs, *key)
    args = build_parser().parse_args(['all', '--wandb', 'disabled', '--no-figures'])  # every option's default
    render_all({spec.id: spec}, 'tiny', tmp_path, args)
    assert '(seed 0 only: no --seeds, and no plan recorded by repro.run)' in capsys.readouterr().out
    assert list(pd.read_csv(tmp_path / 'crosskd_table95.csv')['n']) == [1, 1]
    record_plan(spec, 'tiny', 2)
    render_all({spec.id: spec}, 'tiny', tmp_path, args)
    assert 'seed 0 only' not in capsys.readouterr().out
    assert list(pd.read_csv(tmp_path / 'crosskd_table95.csv')['n']) == [2, 2]


@pytest.mark.parametrize('text', ['{not json', '{"seeds": [1, 2]}', '{"seeds": []}', '[]'])
def test_an_unreadable_plan_record_is_one_line(store, tmp_path, text):
    spec, _ = store
    path = plan_record_path(spec, 'tiny')
    path.parent.mkdir(parents=True)
    path.write_text(text)
    with pytest.raises(ReproError) as err:
        report(spec, tmp_path)
    assert '\n' not in str(err.value) and str(path) in str(err.value) and '--seeds N' in str(err.value)
