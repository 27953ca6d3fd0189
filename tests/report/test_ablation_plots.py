"""Ablation plots: the x parameter and series read from the table specs' params, the note when no run finished,
and (slow) a plot of real tiny runs whose points are the records' numbers beside the published curve."""
import numpy as np
import pytest

from repro.errors import ReproError
from repro.report.figures.ablation_plots import ablation_axes, ablation_figure
from repro.tables.spec import load_all, resolve


def test_the_sweeps_of_the_paper_tables_are_found_from_their_params():
    assert ablation_axes(resolve('pgd:table6a')[0]) == ('k', [])
    assert ablation_axes(resolve('pgd:table6b')[0]) == ('alpha', ['detector'])  # a series per detector
    assert ablation_axes(resolve('crosskd:table1')[0]) == ('layer', [])
    assert ablation_axes(resolve('pgd:table1')[0]) is None  # no params
    assert ablation_axes(resolve('pgd:table5')[0]) is None  # strategies: no numeric parameter
    swept = {table for table, spec in load_all().items() if ablation_axes(spec)}
    assert {'pgd:table6a', 'pgd:table6b', 'crosskd:table1'} <= swept


def test_a_table_without_finished_runs_gets_a_note_not_a_plot(tmp_path):
    from repro.plan.dag import plan
    from repro.report.figures import make_figures
    spec = resolve('pgd:table6a')[0]
    runs = plan(spec, 'tiny')  # $REPRO_WORK_DIRS is the tests' own, empty store
    with pytest.raises(ReproError, match=r'no finished run among its 7 k rows yet \(not run\)'):
        ablation_figure(spec, runs, 'tiny', tmp_path)
    figures, notes = make_figures(spec, runs, 'tiny', tmp_path, ['ablation'])
    assert figures == [] and notes == ['ablation: not drawn: no finished run among its 7 k rows yet (not run)']
    assert not list(tmp_path.rglob('*.png'))


@pytest.mark.slow
def test_the_plot_holds_the_records_numbers_beside_the_papers(tmp_path):
    from PIL import Image

    from figure_runs import LAYERS, layer_table
    from repro.runs.store import read_record
    spec, runs = layer_table(tmp_path / 'spec')
    figure = ablation_figure(spec, runs, 'tiny', tmp_path / 'figures')
    (points,) = figure.data['series'].values()
    assert [p['x'] for p in points] == list(LAYERS)
    by_row = {row: next(r for r in runs if f'crosskd:table94/{row}' in r.rows) for row in ('l1', 'l3', 'l4')}
    for point in points:
        record = read_record(by_row[point['row']].work_dir)
        if point['row'] == 'l1':
            assert point['ours'] is None and record is None
        else:
            assert point['ours'] == record['metrics']['AP']
        assert point['paper'] == spec.row(point['row']).published['AP']
    assert 'not run or failed: l1' in figure.caption and 'separate y axes' in figure.caption
    assert 'Student baseline' in figure.caption
    pixels = np.asarray(Image.open(figure.path).convert('L'), dtype=float)
    assert pixels.shape[1] >= 400 and pixels.std() > 10  # axes, lines and text drawn
