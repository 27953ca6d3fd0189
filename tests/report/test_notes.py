"""A row's Notes cell: the spec's note, missing seeds, and how the row's runs trained."""
from types import SimpleNamespace

from repro.report.frames import notes_cell
from repro.report.results import RowResult, RunState


def test_a_rows_notes_say_how_its_runs_trained():
    """Effective batch and LR (the coco profile scales the LR to the batch) and the teacher's measured AP, each
    distinct value once; records from before the harness kept them say nothing."""
    row = SimpleNamespace(note=None, printed=True)
    records = [{'effective_batch': 2, 'lr': 0.00125, 'teacher_ap': 22.6},
               {'effective_batch': 2, 'lr': 0.00125, 'teacher_ap': 22.6}, {}]
    runs = [RunState(f'k{i}', i, 'done', record, '/w') for i, record in enumerate(records)]
    assert notes_cell(RowResult(row, runs)) == 'batch 2, LR 0.00125; teacher 22.6 AP'
    assert notes_cell(RowResult(row, runs[2:])) == ''
