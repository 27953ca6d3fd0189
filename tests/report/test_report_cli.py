"""`python -m repro.report`: user mistakes end in one line on stderr and exit code 2, never a traceback."""
import subprocess

import pytest

from conftest import PYTHON, REPO


@pytest.mark.parametrize('args, message', [
    (('table99',), "error: unknown table 'table99'"),
    (('table1', '--tolerance', '-1'), 'error: --tolerance is -1.0: give a non-negative number'),
    (('table1', '--seeds', '0'), 'error: --seeds takes a positive number'),
    (('table1', '--seeds', '-2'), "error: --seeds takes a positive number of seeds, e.g. 3 for seeds 0, 1, 2 (got '-2"),
    (('table1', '--seeds', 'three'), "error: --seeds takes a positive number of seeds, e.g. 3 for seeds 0, 1, 2"),
    (('no/such/crosskd_table1.yaml',), 'error: table spec file not found: no/such/crosskd_table1.yaml'),
    (('table1', '--wandb', 'cloud'), None),  # argparse's own message, exit 2
])
def test_report_errors_are_one_line(args, message, tmp_path):
    proc = subprocess.run([PYTHON, '-m', 'repro.report', *args, '--out', str(tmp_path)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    if message:
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    assert not list(tmp_path.iterdir())  # nothing written
