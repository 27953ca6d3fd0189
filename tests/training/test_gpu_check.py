"""benchmarks/gpu_check.sh in its reduced mode (no CUDA), as CI runs it: mmcv's ops, the tiny overhead benchmark, and
the smoke's CI subset (repro.training.smoke: RetinaNet R18 and CrossKD R50 -> R18, 2 iterations each at 1333x800 with
stand-in weights, then an evaluation) through repro.train."""
import json
import os
import subprocess

import pytest

from conftest import REPO


@pytest.mark.slow(minutes=11)  # measured in CI on 2 cores (tests/conftest.py orders by it)
def test_the_gpu_check_runs_reduced_on_a_cpu(tmp_path):
    env = {**os.environ, 'GPU_CHECK_OUT': str(tmp_path), 'CUDA_VISIBLE_DEVICES': ''}
    env.pop('OUT', None)
    done = subprocess.run(['bash', 'benchmarks/gpu_check.sh'], cwd=REPO, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert 'no CUDA: reduced mode' in (tmp_path / 'gpu_check.log').read_text()
    ops = json.loads((tmp_path / 'ops.json').read_text())['ops']
    assert len(ops) == 5 and all(op['ok'] for op in ops)
    overhead = json.loads((tmp_path / 'overhead.json').read_text())
    assert overhead  # the benchmark's own fields are tested in tests/test_benchmarks.py
    progress = [ln for ln in done.stdout.splitlines() if ln.startswith('[') and '/2] ' in ln]
    assert len(progress) == 2 and all(ln.endswith('; stand-in weights)') for ln in progress)
    rows = {r['config']: r for r in json.loads((tmp_path / 'smoke.json').read_text())['rows']}
    plain, crosskd = rows['configs/detectors/retinanet_r18.py'], rows['configs/methods/crosskd_retinanet_r18.py']
    for row in (plain, crosskd):
        assert row['status'] == 'ok' and row['iterations'] == 2 and row['s_per_iter'] > 0 and row['AP'] is not None
        assert row['effective_batch'] == 2 and row['lr'] == pytest.approx(0.01 * 2 / 16)  # auto_scale_lr
        assert row['load'] > 0 and len(row['commit']) == 7  # what ran beside it, and the code it ran
    assert crosskd['params_m']['student'] == plain['params_m']['student'] < crosskd['params_m']['teacher']
    assert 0 < crosskd['dynamics_share_pct'] < 2
    assert not list((tmp_path / 'smoke' / 'work').rglob('*.pth'))  # checkpoints of stand-ins are not kept
    assert crosskd['stand_ins'] == ['retinanet_r50_fpn_mstrain_3x_coco_20210718_220633-88476508.pth']
