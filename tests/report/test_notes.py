"""A row's Notes cell: the spec's note, missing seeds, and how the row's runs trained."""
from types import SimpleNamespace

from repro.report.tables.frames import notes_cell
from repro.report.tables.results import RowResult, RunState


def test_a_rows_notes_say_how_its_runs_trained():
    """Effective batch and LR (the coco profile scales the LR to the batch), the teacher's measured AP and the
    exported student's size beside the teacher's, each distinct value once; records from before the harness kept
    them say nothing, and a failed export says nothing either."""
    row = SimpleNamespace(note=None, printed=True)
    export = {'student': {'params_m': 1.24, 'size_mb': 4.79}, 'teacher': {'params_m': 1.873, 'size_mb': 7.24}}
    records = [{'effective_batch': 2, 'lr': 0.00125, 'teacher_ap': 22.6, 'export': export},
               {'effective_batch': 2, 'lr': 0.00125, 'teacher_ap': 22.6, 'export': {'error': 'x'}}, {}]
    runs = [RunState(f'k{i}', i, 'done', record, '/w') for i, record in enumerate(records)]
    assert notes_cell(RowResult(row, runs)) == ('batch 2, LR 0.00125; teacher 22.6 AP; student 1.24M params, '
                                                '4.79 MB; teacher 1.873M params, 7.24 MB')
    assert notes_cell(RowResult(row, runs[2:])) == ''
    alone = {'effective_batch': 2, 'lr': 0.00125, 'export': {'student': {'params_m': 1.873, 'size_mb': 7.24}}}
    assert notes_cell(RowResult(row, [RunState('t', 0, 'done', alone, '/w')])) == ('batch 2, LR 0.00125; model '
                                                                                 '1.873M params, 7.24 MB')
