"""W&B tracking: offline runs hold what was logged (read back from the .wandb file), modes, fallback."""
import os

import pytest

from conftest import FAST
from repro.errors import ReproError
from repro.profiles import CONFIG_DIR
from repro.runs.lifecycle import train
from repro.training.tracking import wandb_mode
from wandb_files import read_offline_run


def test_modes_and_fallback(monkeypatch, capsys):
    assert wandb_mode('disabled') == 'disabled' and wandb_mode('offline') == 'offline'
    with pytest.raises(ReproError, match="unknown W&B mode 'cloud'"):
        wandb_mode('cloud')
    monkeypatch.setattr('repro.training.tracking._reachable', lambda *a, **k: False)
    with pytest.warns(UserWarning, match='cannot be reached'):
        assert wandb_mode('online') == 'offline'
    assert 'logs offline' in capsys.readouterr().out


def test_each_attempt_is_a_wandb_run_of_its_own_grouped_by_run_key(tmp_path, monkeypatch):
    """A resumed or --rerun attempt never appends to an earlier W&B run; W&B's own variables (which --wandb-entity,
    --wandb-name and --wandb-tags set) choose the entity, name and extra tags."""
    from repro.cli import ArgumentParser, add_wandb_flags, set_env_flags
    from repro.plan.compile import compile_config
    from repro.training.tracking import add_wandb
    for var in ('WANDB_ENTITY', 'WANDB_NAME', 'WANDB_TAGS'):
        monkeypatch.setenv(var, '')  # restored after the test, whatever set_env_flags sets
    compiled = compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny')

    def init():
        cfg = compiled.cfg.copy()
        add_wandb(cfg, compiled, tmp_path, 'offline', ['crosskd:table6/r50'], 'student')
        return cfg.visualizer.vis_backends[-1]['init_kwargs']
    first, again = init(), init()
    assert first['id'] != again['id'] and first['id'].startswith(compiled.run_key + '-')
    assert 'resume' not in first and first['group'] == again['group'] == compiled.run_key
    assert first['job_type'] == 'student' and 'entity' not in first
    assert first['name'] == f'gfl_r50-{compiled.run_key}' and 'crosskd:table6' in first['tags']
    parser = ArgumentParser(prog='test')
    add_wandb_flags(parser)
    set_env_flags(parser.parse_args(['--wandb-entity', 'lab', '--wandb-name', 'try-3', '--wandb-tags', 'a, b']))
    user = init()
    assert user['entity'] == 'lab' and user['name'] == 'try-3' and user['tags'][-2:] == ['a', 'b']


@pytest.mark.slow
def test_offline_run_logs_losses_lr_and_its_identity(tmp_path, monkeypatch):
    monkeypatch.setenv('WANDB_API_KEY', 'k' * 40)  # a key in the environment must never land in the work dir
    result = train(CONFIG_DIR / 'detectors/gfl_r50.py', FAST + ['train_cfg.max_epochs=1'], profile='tiny',
                   work_dir=tmp_path, rows=['crosskd:table6/r18'], role='student', wandb='offline')
    files = list(tmp_path.glob('wandb/offline-run-*/run-*.wandb'))
    assert len(files) == 1
    run = read_offline_run(files[0])
    meta = run['run']
    assert meta.run_id.startswith(result['run_key'] + '-')
    assert meta.project == os.environ.get('REPRO_WANDB_PROJECT', 'repro')
    assert meta.run_group == result['run_key'] and meta.job_type == 'student'
    assert {'tiny', 'gfl_r50', 'GFL', 'crosskd:table6'} <= set(meta.tags)
    losses = [h['loss'] for h in run['history'] if 'loss' in h]
    assert len(losses) == 4 and all(v > 0 for v in losses)  # 4 iterations, logged every one
    assert any('lr' in h for h in run['history'])
    leaked = [p for p in tmp_path.rglob('*') if p.is_file() and b'k' * 40 in p.read_bytes()]
    assert not leaked


@pytest.mark.slow
def test_a_run_resumed_from_its_final_checkpoint_is_evaluated_and_logged(tmp_path):
    """Killed after saving its last checkpoint, before its record: the rerun trains nothing, evaluates once (before
    the Runner closes the W&B run) and records the metrics."""
    args = FAST + ['train_cfg.max_epochs=1']
    first = train(CONFIG_DIR / 'detectors/gfl_r50.py', args, profile='tiny', work_dir=tmp_path, wandb='offline')
    (tmp_path / 'result.json').unlink()
    (tmp_path / 'weights.pth').unlink()
    again = train(CONFIG_DIR / 'detectors/gfl_r50.py', args, profile='tiny', work_dir=tmp_path, wandb='offline')
    assert again['status'] == 'done' and again['metrics'] == first['metrics']
    assert (tmp_path / 'weights.pth').exists()
