"""Figures survive a reclaimed machine: a report rendered again from kept records (no weights) keeps the figures
its earlier render drew from the same runs, and draws the training dynamics again from what the records carry."""
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from repro.report.figures import KEPT_NOTE, kept_figure


def _earlier_render(out, name='detections', keys=('aaaaaaaaaaaa', 'bbbbbbbbbbbb')):
    path = out / 'figures' / f"{name}-{'-'.join(keys)}.png"
    path.parent.mkdir(parents=True)
    path.write_bytes(b'png')
    path.with_suffix('.json').write_text(json.dumps({'caption': 'drawn', 'data': {'runs': list(keys)}}))
    manifest = {'id': 'x:table1', 'slug': 'x_table1', 'files': {},
                'figures': [{'name': name, 'title': 'Title', 'path': f'figures/{path.name}', 'caption': 'Drawn.'}]}
    (out / 'x_table1.json').write_text(json.dumps(manifest))
    return path


def _runs(**states):
    return [SimpleNamespace(key=key, status=lambda s=state: s) for key, state in states.items()]


def test_a_figure_is_kept_only_while_every_run_it_names_is_finished(tmp_path):
    spec = SimpleNamespace(id='x:table1')
    path = _earlier_render(tmp_path)
    figure = kept_figure(spec, _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='done'), tmp_path, 'detections')
    assert figure.path == path and figure.caption == f'Drawn. {KEPT_NOTE}' and figure.title == 'Title'
    assert figure.data == {'runs': ['aaaaaaaaaaaa', 'bbbbbbbbbbbb']}
    assert kept_figure(spec, _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='pending'), tmp_path, 'detections') is None
    assert kept_figure(spec, _runs(aaaaaaaaaaaa='done'), tmp_path, 'detections') is None  # not in this plan
    assert kept_figure(spec, _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='done'), tmp_path, 'masking_curve') is None
    assert kept_figure(SimpleNamespace(id='x:table2'), _runs(), tmp_path, 'detections') is None
    path.unlink()
    assert kept_figure(spec, _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='done'), tmp_path, 'detections') is None


def test_a_teacher_figure_is_not_drawn_again_from_fewer_teachers_than_the_kept_one(tmp_path, monkeypatch):
    """Some teachers trained again here (weights), the others put back from kept records (none): drawing now would
    show fewer teachers than the earlier render, from the same run keys, so that one is kept."""
    from repro.report.figures import quality
    spec = SimpleNamespace(id='x:table1')
    path = _earlier_render(tmp_path, 'masking_curve')
    weights = tmp_path / 'epoch_1.pth'
    weights.write_bytes(b'w')
    os.utime(weights, (path.stat().st_mtime + 10,) * 2)  # trained after the earlier render
    runs = _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='done')
    only_a = ({'FCOS': (runs[0], weights)}, {'ATSS': 'teacher run bbbbbbbbbbbb has no weights here'})
    monkeypatch.setattr(quality, 'pick_teachers', lambda _: only_a)
    done, missing, got, figure = quality.teachers_figure(spec, runs, tmp_path / 'figures', 'masking_curve', 'T', 'mask')
    assert got == path and figure.caption == f'Drawn. {KEPT_NOTE}' and missing == {} and list(done) == ['FCOS']

    runs = _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='pending')  # the kept one names a run no longer finished
    only_a = ({'FCOS': (runs[0], weights)}, {'ATSS': 'teacher run bbbbbbbbbbbb is pending'})
    done, missing, got, figure = quality.teachers_figure(spec, runs, tmp_path / 'figures', 'masking_curve', 'T', 'mask')
    assert got.name == 'masking_curve-aaaaaaaaaaaa.png' and figure is None and missing == only_a[1]  # drawn anew

    runs = _runs(aaaaaaaaaaaa='done', bbbbbbbbbbbb='done')
    both = ({'FCOS': (runs[0], weights), 'ATSS': (runs[1], weights)}, {'GFL': 'no teacher run in this table'})
    monkeypatch.setattr(quality, 'pick_teachers', lambda _: both)
    done, missing, got, figure = quality.teachers_figure(spec, runs, tmp_path / 'figures', 'masking_curve', 'T', 'mask')
    assert got == path and missing == both[1] and figure is None  # as many teachers: drawn again (weights newer)


@pytest.mark.slow
def test_a_report_rendered_again_from_kept_records_keeps_its_figures(tmp_path):
    from figure_runs import layer_table
    from repro.report import write_report
    from repro.runs.restore import restore
    spec, runs = layer_table(tmp_path / 'spec')
    out = tmp_path / 'out'
    write_report(spec, runs, 'tiny', out, wandb='disabled', echo=False)
    first = json.loads((out / 'crosskd_table94.json').read_text())
    assert first['figure_notes'] == []

    for run in runs:  # another machine: the store is gone, its records are kept in the report folder
        run.work_dir = tmp_path / 'store2' / run.work_dir.name
    assert len(restore(runs, out / 'runs')) == len(runs) - 1  # layer 1 never ran
    write_report(spec, runs, 'tiny', out, wandb='disabled', echo=False)
    again = json.loads((out / 'crosskd_table94.json').read_text())
    assert again['figure_notes'] == []
    assert [f['path'] for f in again['figures']] == [f['path'] for f in first['figures']]
    kept = {f['name'] for f in again['figures'] if f['caption'].endswith(KEPT_NOTE)}
    assert kept == {'gradient_maps', 'quality_heatmaps', 'masking_curve', 'detections'}  # drawn from weights
    # the ablation plot (from records) and the dynamics (from the dynamics the records carried) are drawn again
    assert {f['name']: f['caption'] for f in again['figures']}['training_dynamics'] == \
        {f['name']: f['caption'] for f in first['figures']}['training_dynamics']

    student = next(r for r in runs if r.role == 'student')
    (student.work_dir / 'result.json').unlink()  # a run the figures name is no longer finished: not kept
    write_report(spec, runs, 'tiny', out, wandb='disabled', echo=False)
    notes = json.loads((out / 'crosskd_table94.json').read_text())['figure_notes']
    assert any(n.startswith('detections: not drawn') for n in notes)


def test_the_detections_figure_is_not_drawn_again_from_fewer_runs_than_the_kept_one(tmp_path, monkeypatch):
    """One group's teacher, student and distilled run have weights here, the earlier render drew two groups: kept."""
    from repro.report.figures import detections
    keys = ('aaaaaaaaaaaa', 'bbbbbbbbbbbb', 'cccccccccccc', 'dddddddddddd', 'eeeeeeeeeeee', 'ffffffffffff')
    path = _earlier_render(tmp_path, 'detections', keys)
    spec = SimpleNamespace(id='x:table1', path=Path('x_table1.yaml'))
    runs = _runs(**dict.fromkeys(keys, 'done'))
    monkeypatch.setattr(detections, 'pick_triples', lambda spec, runs: [tuple(runs[:3])])
    monkeypatch.setattr(detections, 'weights_of', lambda run: path)
    monkeypatch.setattr(detections, 'labels', lambda spec, triples: ['x'])
    monkeypatch.setattr(detections, 'draw', lambda *a: 'drawn')
    figure = detections.detections_figure(spec, runs, 'tiny', tmp_path / 'figures')
    assert figure.path == path and figure.caption == f'Drawn. {KEPT_NOTE}'
    runs = _runs(**dict.fromkeys(keys[:5], 'done'), ffffffffffff='pending')  # the kept one is no longer valid
    assert detections.detections_figure(spec, runs, 'tiny', tmp_path / 'figures') == 'drawn'
