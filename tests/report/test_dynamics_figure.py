"""The training-dynamics figure: drawn from the dynamics.json that real tiny runs wrote, a note for finished runs
trained without it, put back from a kept record without it or trained by mmdet's own distiller, nothing for a
table with no finished distiller."""
import copy
import dataclasses
import shutil

import numpy as np
import pytest

from repro.runs.store import DYNAMICS_FILE, read_dynamics
from repro.errors import ReproError
from repro.plan.compile import MMDET_KD_DETECTOR
from repro.report.figures.dynamics import UNTRACKED, dynamics_figure
from repro.tables.spec import resolve


def _as_mmdet_distiller(run):
    """The run as if its config were mmdet's own distiller (LD's), which the dynamics hook does not follow."""
    cfg = copy.deepcopy(run.compiled.cfg)
    cfg.model.type = MMDET_KD_DETECTOR
    return dataclasses.replace(run, compiled=dataclasses.replace(run.compiled, cfg=cfg))


def test_a_table_without_finished_distillers_has_no_dynamics_figure(tmp_path):
    from repro.plan.dag import plan
    spec = resolve('crosskd:table4')[0]
    assert dynamics_figure(spec, plan(spec, 'tiny'), 'tiny', tmp_path) is None  # the tests' store is empty


@pytest.mark.slow
def test_the_figure_plots_what_each_run_measured_during_training(tmp_path):
    from PIL import Image

    from figure_runs import layer_table
    from repro.runs.store import RESTORED, read_record, write_record
    spec, runs = layer_table(tmp_path / 'spec')
    figure = dynamics_figure(spec, runs, 'tiny', tmp_path / 'figures')
    assert set(figure.data['rows']) == {'l3', 'l4'}  # l1 is not trained
    for name, drawn in figure.data['rows'].items():
        run = next(r for r in runs if f'crosskd:table94/{name}' in r.rows)
        measured = read_dynamics(run.work_dir)['epochs']
        assert drawn['epochs'] == measured and drawn['run_key'] == run.key
        epochs = [e['epoch'] for e in measured]
        assert epochs == list(range(len(epochs))) and len(epochs) >= 2
        assert measured[-1]['AP'] == read_record(run.work_dir)['metrics']['AP']
        assert measured[-1]['to_teacher/cls'] != measured[0]['to_teacher/cls']  # training moved the student
    pixels = np.asarray(Image.open(figure.path).convert('L'), dtype=float)
    assert pixels.shape[1] >= 800 and pixels.std() > 10

    l4 = next(r for r in runs if 'crosskd:table94/l4' in r.rows)
    copy = tmp_path / 'l4-without-dynamics'
    shutil.copytree(l4.work_dir, copy)
    (copy / DYNAMICS_FILE).unlink()
    runs = [dataclasses.replace(r, work_dir=copy) if r is l4 else r for r in runs]
    figure = dynamics_figure(spec, runs, 'tiny', tmp_path / 'figures2')
    assert set(figure.data['rows']) == {'l3'} and 'No dynamics: l4 (trained before the hook existed).' in figure.caption
    # mmdet's LD: no hook, so a note, not an error
    as_ld = [_as_mmdet_distiller(r) if r.key == l4.key else r for r in runs]
    figure = dynamics_figure(spec, as_ld, 'tiny', tmp_path / 'figures5')
    assert set(figure.data['rows']) == {'l3'} and f'No dynamics: l4 ({UNTRACKED}).' in figure.caption
    assert dynamics_figure(spec, [r for r in as_ld if 'crosskd:table94/l3' not in r.rows], 'tiny',
                           tmp_path / 'figures6') is None
    only_l4 = [r for r in runs if 'crosskd:table94/l3' not in r.rows]
    with pytest.raises(ReproError, match=r'no finished run has training dynamics: l4 \(trained before .* --rerun ROW'):
        dynamics_figure(spec, only_l4, 'tiny', tmp_path / 'figures3')
    write_record(copy, {**read_record(copy), RESTORED: 'reports/tiny/runs/x.json'})  # put back from an old kept copy
    with pytest.raises(ReproError, match=r'dynamics: l4 \(a kept record without them\);'):
        dynamics_figure(spec, only_l4, 'tiny', tmp_path / 'figures4')
