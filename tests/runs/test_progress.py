"""The launcher's progress board: what a log (no terminal) keeps of it."""
from types import SimpleNamespace

from repro.runs.progress import Board


def test_a_finished_runs_summary_is_one_line_in_a_log_however_long(tmp_path, capsys):
    run = SimpleNamespace(name='pkd_head_gfl', role='distilled', key='341eaa5c89c5', work_dir=tmp_path / 'none',
                          rows=[f'crosskd:table2/row_{i}' for i in range(12)])
    with Board('crosskd:table2 (tiny)', [run]) as board:
        board.started(run, f'started, log {tmp_path}/{"x" * 80}.launch.log')
        board.finished(run, 'failed', note='its teacher run 0123456789ab did not finish')
    lines = capsys.readouterr().out.splitlines()
    assert f'pkd_head_gfl (distilled, 341eaa5c89c5): started, log {tmp_path}/{"x" * 80}.launch.log' in lines
    summary = ('pkd_head_gfl (distilled, 341eaa5c89c5; ' + ', '.join(f'row_{i}' for i in range(12)) +
               '): failed, its teacher run 0123456789ab did not finish')
    assert summary in lines
