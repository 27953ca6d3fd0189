"""Detections figure: the hit / false-positive count by hand, which tables get the figure, the note when their runs
are missing, and (slow) the figure of a real tiny teacher, student and CrossKD student, with quality heatmaps and
masking curve of the same teacher, through the report's figure registry."""
import numpy as np
import pytest

from repro.errors import ReproError
from repro.report.figures.detections import match, pick_triples
from repro.tables.spec import resolve


def test_matching_counts_found_gts_and_false_positives_by_hand():
    gts = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], dtype=float)
    boxes = np.array([[0, 0, 10, 9],      # IoU 0.9 with GT 0: found
                      [0, 0, 10, 10],     # GT 0 taken already: a false positive
                      [20, 20, 30, 25],   # IoU 0.5 with GT 1: found (>= 0.5)
                      [50, 50, 60, 60]])  # nothing there
    assert match(boxes, gts) == (2, 2)
    assert match(boxes[2:3], gts, iou=0.51) == (0, 1)
    assert match(np.zeros((0, 4)), gts) == (0, 0) and match(boxes, np.zeros((0, 4))) == (0, 4)


def test_tables_without_a_student_or_a_distilled_row_get_no_figure_and_missing_runs_a_note(tmp_path):
    from repro.plan.dag import plan
    from repro.report.figures import make_figures
    spec, runs = _planned('pgd:table6a')
    assert pick_triples(spec, [r for r in runs if r.role != 'student']) is None  # distilled rows only
    spec, runs = _planned('crosskd:table1')  # the tests' store is empty: nothing finished
    with pytest.raises(ReproError, match='no teacher, student and distilled student all finished') as err:
        pick_triples(spec, runs)
    teacher = next(r for r in runs if r.role == 'teacher')
    assert f'teacher {teacher.key} is pending' in str(err.value) and 'more)' in str(err.value)
    figures, notes = make_figures(spec, plan(spec, 'tiny'), 'tiny', tmp_path, ['detections'])
    assert figures == [] and notes[0].startswith('detections: not drawn: no teacher, student and distilled')


def test_the_trio_is_one_seed_and_the_lowest_not_the_best_seed(monkeypatch):
    """Over seeds, the figure shows a student and distilled run of one seed (the lowest both have weights for),
    not the distilled row's best seed beside another seed's student; among rows of that seed, the best AP."""
    from types import SimpleNamespace as Run
    import repro.report.figures.detections as detections
    cfg = {'backbone': 'r50'}
    teacher = Run(key='t', role='teacher', seed=0, needs=None)
    students = [Run(key=f's{seed}', role='student', seed=seed, needs=None) for seed in (0, 1, 2)]
    ap = {'pgd0': 18.1, 'pgd1': 20.5, 'pgd2': 19.5, 'fgd1': 21.0, 'fgd2': 22.0}
    distilled = [Run(key=key, role='distilled', seed=int(key[-1]), needs='t', config=f'configs/methods/{key[:3]}_atss.py',
                     rows=[f'x/{key[:3]}']) for key in ap]
    no_weights = {'s0'}  # seed 0's student is a kept record
    monkeypatch.setattr(detections, 'plain_model_cfg', lambda run: cfg)
    monkeypatch.setattr(detections, 'weights_of', lambda run: None if run.key in no_weights else 'w')
    monkeypatch.setattr(detections, '_ap', lambda run: ap[run.key])
    spec = Run(paper='ext')
    [(t, student, run)] = pick_triples(spec, [teacher, *students, *distilled])
    assert (t.key, student.key, run.key) == ('t', 's1', 'fgd1')  # seed 1: the lowest with both; FGD beats PGD there
    spec = Run(paper='pgd')  # PGD's own table: its own method first
    [(_, student, run)] = pick_triples(spec, [teacher, *students, *distilled])
    assert (student.key, run.key) == ('s1', 'pgd1')


def test_a_triple_is_named_by_its_config_and_its_rows_in_this_table_only():
    """A run shared by tables is a row of each: Table 1's figure must not name it by Table 4's row."""
    from types import SimpleNamespace as Run
    from repro.report.figures.detections import labels
    crosskd = Run(config='configs/methods/crosskd_gfl.py', rows=['crosskd:table4/crosskd', 'crosskd:table1/ours'])
    pkd = Run(config='configs/methods/pkd_gfl.py', rows=['crosskd:table1/pkd', 'crosskd:table1/pkd_again'])
    assert labels(Run(id='crosskd:table1'), [(None, None, crosskd), (None, None, pkd)]) == [
        'crosskd_gfl (ours)', 'pkd_gfl (pkd, pkd_again)']
    assert labels(Run(id='crosskd:table4'), [(None, None, crosskd)]) == ['crosskd_gfl (crosskd)']


def _planned(table):
    from repro.plan.dag import plan
    spec = resolve(table)[0]
    return spec, plan(spec, 'tiny')


@pytest.mark.slow
def test_figures_of_real_runs_name_their_runs_and_count_their_boxes(tmp_path):
    from figure_runs import layer_table
    from repro.report.figures import make_figures
    from repro.report.figures.gradmap import batch_of, val_items
    from repro.report.figures.checkpoints import load_detector
    from repro.runs.store import read_record
    spec, runs = layer_table(tmp_path / 'spec')
    figures, notes = make_figures(spec, runs, 'tiny', tmp_path / 'out')
    assert notes == []
    drawn = {f.name: f for f in figures}
    assert set(drawn) == {'gradient_maps', 'quality_heatmaps', 'masking_curve', 'ablation', 'detections',
                          'training_dynamics'}

    teacher = next(r for r in runs if r.role == 'teacher')
    student = next(r for r in runs if r.role == 'student')
    trained = [r for r in runs if r.role == 'distilled' and read_record(r.work_dir)]
    best = max(trained, key=lambda r: read_record(r.work_dir)['metrics']['AP'])
    det = drawn['detections']
    assert det.data['runs'] == [{'teacher': teacher.key, 'student': student.key, 'distilled': best.key}]
    (counts,) = det.data['counts'].values()
    items = val_items(teacher.compiled.cfg, 3)
    gts = sum(len(batch_of(load_detector(teacher), item)[1][0].gt_instances) for item in items)
    assert {role: c[1] for role, c in counts.items()} == {'teacher': gts, 'student': gts, 'distilled': gts}
    assert all(0 <= c[0] <= gts for c in counts.values())

    quality = drawn['quality_heatmaps']
    assert quality.data['teachers'] == {'GFL': teacher.key} and 0 < quality.data['mean_peak_quality']['GFL'] <= 1
    assert 'No column for FCOS, ATSS, AutoAssign, DDOD: no teacher run in this table.' in quality.caption
    masking = drawn['masking_curve']
    assert masking.data['ap']['GFL'][0] == read_record(teacher.work_dir)['metrics']['AP']
    for figure in figures:
        assert figure.path.is_file() and figure.path.stat().st_size > 10_000, figure.name
