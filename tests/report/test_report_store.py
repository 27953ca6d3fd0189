"""Reports rendered from a store of real tiny runs (tests/report/report_store.py): row numbers, verdicts, the
ordering statistics, failed and missing rows, the four file formats, the figure, the W&B report run, the CLI."""
import json
import statistics
import subprocess

import numpy as np
import pandas as pd
import pytest

from conftest import PYTHON, REPO
from html_tables import read_tables
from report_store import PUBLISHED, SEEDS, make_store, row_runs
from repro.report import write_report
from repro.report.tables.ordering import ordering
from repro.report.tables.results import FAILED, NOT_COMPARABLE, NOT_REPRODUCED, NOT_RUN, REPRODUCED, collect
from repro.plan.seeds import record_plan
from repro.runs.store import read_record

pytestmark = pytest.mark.slow
RAN = ('teacher', 'student', 'crosskd', 'again', 'pkd')


@pytest.fixture(scope='module')
def store(tmp_path_factory):
    return make_store(str(tmp_path_factory.mktemp('spec')))


@pytest.fixture(scope='module')
def rendered(store, tmp_path_factory):
    spec, runs = store
    out = tmp_path_factory.mktemp('reports')
    md = write_report(spec, runs, 'tiny', out, wandb='offline', echo=False)
    return spec, runs, out, md


def metric_values(runs, row_id, metric='AP50'):
    """The row's metric per finished seed, read straight from the records."""
    records = [read_record(r.work_dir) for r in sorted(row_runs(runs, row_id), key=lambda r: r.seed)]
    return [rec['metrics'][metric] for rec in records if rec and rec['status'] == 'done']


def test_rows_hold_each_seeds_numbers_and_say_why_others_are_missing(store):
    spec, runs = store
    results = {r.row.id: r for r in collect(spec, runs, 'tiny')}
    crosskd = results['crosskd']
    values = metric_values(runs, 'crosskd')
    assert len(values) == 2 and crosskd.values['AP50'] == values
    assert crosskd.mean('AP50') == pytest.approx(statistics.mean(values))
    assert crosskd.std('AP50') == pytest.approx(statistics.stdev(values))
    assert results['again'].values == crosskd.values  # the same run serves both rows
    assert results['pkd'].values['AP50'] == metric_values(runs, 'pkd') and results['pkd'].std('AP50') is None
    assert [len(results[i].done) for i in RAN] == [1, 1, 2, 2, 1] and all(len(results[i].runs) == 2 for i in RAN)
    assert crosskd.delta == pytest.approx(statistics.mean(values) - PUBLISHED['crosskd'])
    assert {i: results[i].verdict for i in RAN} == {i: NOT_COMPARABLE for i in RAN}  # tiny: not held to COCO
    broken = results['broken']
    assert broken.verdict == FAILED and broken.values == {}
    assert broken.reason.startswith('ReproError: teacher checkpoint')
    assert 'does not match the teacher config' in broken.reason
    assert results['ld'].verdict == NOT_RUN and results['ld'].reason == 'pending'


def test_verdicts_hold_rows_to_the_paper_within_the_tolerance(store):
    """Under a comparable profile: a tolerance between two rows' |delta| splits them, and it is inclusive."""
    spec, runs = store
    deltas = {i: statistics.mean(metric_values(runs, i)) - PUBLISHED[i] for i in RAN}
    sizes = sorted({round(abs(d), 6) for d in deltas.values()})
    assert len(sizes) >= 2, deltas
    tolerance = (sizes[0] + sizes[1]) / 2  # strictly between two |delta|s, never equal to one (float ties)
    results = {r.row.id: r for r in collect(spec, runs, 'coco', tolerance)}
    for row_id, delta in deltas.items():
        expected = REPRODUCED if abs(delta) <= tolerance else NOT_REPRODUCED
        assert results[row_id].verdict == expected, (row_id, delta, tolerance)
    assert {REPRODUCED, NOT_REPRODUCED} <= {r.verdict for r in results.values()}
    exact = abs(deltas['pkd'])
    assert {r.row.id: r for r in collect(spec, runs, 'coco', exact)}['pkd'].verdict == REPRODUCED
    assert results['broken'].verdict == FAILED and results['ld'].verdict == NOT_RUN


def test_ordering_of_the_distilled_rows_matches_a_hand_computation(store):
    spec, runs = store
    order = ordering(collect(spec, runs, 'tiny'), 'AP50')
    ids = ['crosskd', 'again', 'pkd']  # the distilled rows that ran; 'broken' failed, 'ld' never ran
    assert order.rows == ids
    published = pd.Series([PUBLISHED[i] for i in ids])
    ours = pd.Series([statistics.mean(metric_values(runs, i)) for i in ids])
    rp, ro = published.rank(method='average'), ours.rank(method='average')
    if ro.nunique() > 1:
        assert order.rho == pytest.approx(float(np.corrcoef(rp, ro)[0, 1]))
    else:
        assert order.rho is None
    expected = {(a, b) for a in range(3) for b in range(3)
                if published[a] > published[b] and ours[a] < ours[b]}
    assert {(ids.index(f.a), ids.index(f.b)) for f in order.flips} == expected
    assert order.pairs == 3


def test_report_files_parse_and_hold_every_row(rendered):
    spec, runs, out, md = rendered
    stem = out / 'crosskd_table97'
    assert md == stem.with_suffix('.md')
    csv = pd.read_csv(stem.with_suffix('.csv'))
    assert list(csv['row']) == [r.id for r in spec.rows]
    assert dict(zip(csv['row'], csv['verdict'])) == {'teacher': NOT_COMPARABLE, 'student': NOT_COMPARABLE,
                                                     'crosskd': NOT_COMPARABLE, 'again': NOT_COMPARABLE,
                                                     'pkd': NOT_COMPARABLE, 'broken': FAILED, 'ld': NOT_RUN}
    crosskd = csv.set_index('row').loc['crosskd']
    assert crosskd['AP50_mean'] == pytest.approx(statistics.mean(metric_values(runs, 'crosskd')), abs=1e-4)
    assert crosskd['AP50_paper'] == PUBLISHED['crosskd'] and crosskd['n'] == 2 and crosskd['seeds'] == '0 1'
    assert np.isnan(csv.set_index('row').loc['ld', 'AP50_mean'])
    html = stem.with_suffix('.html').read_text()
    tables = read_tables(stem.with_suffix('.html'))
    assert list(tables[0].iloc[:, 0]) == [r.label for r in spec.rows]  # the report table, row by row
    assert 'NOT comparable' in html and 'Spearman' in html and 'does not match the teacher config' in html
    assert '<script' not in html and 'http' not in html.split('<footer>')[0]  # nothing fetched from elsewhere
    text = md.read_text()
    assert text.count('\n| ') >= len(spec.rows) + 1 and '| LD | distilled | 55.5 | — |' in text
    tex = stem.with_suffix('.tex').read_text()
    assert all(rule in tex for rule in ('\\toprule', '\\midrule', '\\bottomrule'))
    body = tex.split('\\midrule')[1].split('\\bottomrule')[0]
    assert body.count('\\\\') == len(spec.rows) and '$\\pm$' in body


def test_footer_gives_run_keys_commit_versions_hardware_and_the_wandb_run(rendered):
    spec, runs, out, md = rendered
    text = md.read_text()
    footer = text.split('## Provenance')[1]
    records = [read_record(r.work_dir) for r in runs if (r.work_dir / 'result.json').exists()]
    assert all(r.key in footer for r in runs)
    done = [rec for rec in records if rec['status'] == 'done']
    assert done[0]['git_commit'] in footer and f"torch {done[0]['packages']['torch']}" in footer
    assert f"cpus {done[0]['hardware']['cpus']}" in footer
    assert 'offline-run-' in footer and 'report-tiny-crosskd_table97' in footer


def test_gradient_figure_comes_from_the_tables_runs(rendered):
    spec, runs, out, md = rendered
    data = json.loads((out / 'crosskd_table97.json').read_text())
    figure = next(f for f in data['figures'] if f['name'] == 'gradient_maps')
    png = out / figure['path']
    mtime = png.stat().st_mtime_ns
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    from PIL import Image
    image = np.asarray(Image.open(png).convert('L'), dtype=float)
    assert image.shape[0] > 400 and image.std() > 10  # drawn, not blank
    teacher = row_runs(runs, 'teacher')[0]
    assert f'Teacher: run {teacher.key} (teacher)' in figure['caption']  # its key: the caption is committed,
    assert str(teacher.work_dir) not in figure['caption']  # and the store's path is this machine's
    assert row_runs(runs, 'student')[0].key in figure['caption']
    assert 'PKD' in figure['caption'] and 'CrossKD' in figure['caption']
    from repro.report.figures.gradmap import gradient_figure  # another table of the same runs reuses the drawing
    again = gradient_figure(spec, runs, 'tiny', png.parent)
    assert again.path == png and again.caption == figure['caption'] and png.stat().st_mtime_ns == mtime


def test_wandb_report_run_holds_the_tables_and_the_figure(rendered):
    spec, runs, out, md = rendered
    (run_dir,) = out.glob('wandb/offline-run-*-report-tiny-crosskd_table97')
    assert (run_dir / 'run-report-tiny-crosskd_table97.wandb').is_file()
    (rows_json,) = run_dir.glob('files/media/table/rows_*.table.json')
    logged = json.loads(rows_json.read_text())
    csv = pd.read_csv(out / 'crosskd_table97.csv')
    assert logged['columns'] == list(csv.columns)
    assert [r[logged['columns'].index('verdict')] for r in logged['data']] == list(csv['verdict'])
    (table_json,) = run_dir.glob('files/media/table/table_*.table.json')
    assert len(json.loads(table_json.read_text())['data']) == len(spec.rows)
    assert list(run_dir.glob('files/media/images/figures/gradient_maps*.png'))


def test_cli_renders_a_spec_file_over_the_seeds_repro_run_recorded(store, tmp_path):
    spec, runs = store
    record_plan(spec, 'tiny', SEEDS)  # as `repro.run SPEC --seeds 2` does
    proc = subprocess.run([PYTHON, '-m', 'repro.report', str(spec.path), '--profile', 'tiny', '--out',
                           str(tmp_path), '--wandb', 'disabled', '--no-figures', '--tolerance', '0.5'],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert '# CrossKD Table 97: A report test table' in proc.stdout and 'Spearman' in proc.stdout
    csv = pd.read_csv(tmp_path / 'crosskd_table97.csv')
    assert set(csv['seeds_planned']) == {'0 1'} and set(csv['tolerance']) == {0.5}  # the recorded plan's seeds
    assert 'Each row is the mean over seeds 0, 1, as repro.run last ran this table' in proc.stdout
    assert (tmp_path / 'index.html').is_file() and not (tmp_path / 'figures').exists()


def test_all_renders_tables_with_results_and_marks_the_others_not_run(store, tmp_path):
    from repro.report.__main__ import build_parser, render_all
    from repro.tables.spec import load_all
    spec, _ = store
    table1 = load_all()['crosskd:table1']
    (tmp_path / 'crosskd_table1.json').write_text('{}')  # a stale leftover is not a rendered table
    args = build_parser().parse_args(['all', '--wandb', 'disabled', '--no-figures'])  # every option's default
    render_all({table1.id: table1, spec.id: spec}, 'tiny', tmp_path, args)
    assert (tmp_path / 'crosskd_table97.md').is_file() and not (tmp_path / 'crosskd_table1.md').exists()
    rows = read_tables(tmp_path / 'index.html')[0].set_index('Table')
    assert rows.loc['crosskd:table1', 'Status'] == 'not run'
    assert 'not comparable' in rows.loc['crosskd:table97', 'Status']
