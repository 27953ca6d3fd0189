"""Real tiny-profile training runs through mmengine's Runner, a few seconds each."""
import json
import re
import sys

import pytest

from conftest import FAST, REPO
from repro.training.checkpoint import load_checkpoint_file
from repro.errors import ReproError
from repro.profiles import CONFIG_DIR
from repro.runs.lifecycle import train
from repro.runs.store import RESULT_FILE

GFL = CONFIG_DIR / 'detectors/gfl_r50.py'
pytestmark = pytest.mark.slow


def _losses(work_dir):
    """Logged training losses, over every (resumed) session in the work dir, oldest first."""
    lines = [line for path in sorted(work_dir.glob('*/vis_data/scalars.json'))
             for line in path.read_text().splitlines()]
    return [json.loads(line)['loss'] for line in lines if '"loss"' in line]


@pytest.fixture(scope='module')
def smoke_run(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('smoke')
    result = train(GFL, FAST + ['train_cfg.max_epochs=8'], profile='tiny', work_dir=work_dir)
    return work_dir, result


def test_training_reduces_the_loss(smoke_run):
    work_dir, _ = smoke_run
    losses = _losses(work_dir)
    assert len(losses) == 32  # 8 epochs of 4 iterations
    assert sum(losses[-4:]) / 4 < 0.8 * sum(losses[:4]) / 4


def test_result_record(smoke_run):
    work_dir, result = smoke_run
    on_disk = json.loads((work_dir / RESULT_FILE).read_text())
    assert on_disk == json.loads(json.dumps(result, default=str))
    assert set(result['metrics']) == {'AP', 'AP50', 'AP75', 'APs', 'APm', 'APl'}
    assert all(0.0 <= v <= 100.0 for v in result['metrics'].values())
    assert re.fullmatch(r'[0-9a-f]{12}', result['run_key'])
    assert result['seed'] == 0 and result['status'] == 'done' and result['wall_time_s'] > 0
    assert result['packages']['mmdet'] == '3.3.0' and result['packages']['mmcv'] == '2.1.0'
    assert result['git_commit'] and result['hardware']['cpus'] >= 1
    assert result['effective_batch'] == 4 and result['lr'] == 0.01 and 'config_lr' not in result  # FAST: 4 a batch
    assert result['config'] == 'configs/detectors/gfl_r50.py'  # given by absolute path: the same from any clone


def test_checkpoint_holds_runner_state_and_loads_safely(smoke_run):
    work_dir, _ = smoke_run
    ckpt = load_checkpoint_file(work_dir / 'epoch_8.pth')  # weights_only=True under torch>=2.6
    assert {'state_dict', 'optimizer', 'message_hub', 'meta'} <= set(ckpt)
    assert ckpt['meta']['epoch'] == 8


def test_finished_run_is_not_retrained(smoke_run, capsys):
    work_dir, result = smoke_run
    again = train(GFL, FAST + ['train_cfg.max_epochs=8'], profile='tiny', work_dir=work_dir)
    assert again == json.loads(json.dumps(result, default=str))
    assert 'already done' in capsys.readouterr().out
    with pytest.raises(ReproError, match='holds a different run'):
        train(GFL, FAST + ['train_cfg.max_epochs=9'], profile='tiny', work_dir=work_dir)


def test_a_plain_run_exports_its_config_and_weights_for_plain_mmdet(smoke_run):
    """A run with no teacher exports its pair too (repro/training/export.py; end to end in plain mmdet: tests/training/test_export.py)."""
    from mmdet.registry import MODELS
    from mmengine.config import Config
    _, result = smoke_run
    export = result['export']
    assert set(export) == {'config', 'weights', 'student'}  # no teacher to compare with, nothing replaced
    model = MODELS.build(Config.fromfile(export['config']).model)
    model.load_state_dict(load_checkpoint_file(export['weights'])['state_dict'], strict=True)
    assert load_checkpoint_file(export['weights'])['meta']['dataset_meta']['classes'][0] == 'disk'


def test_interrupted_run_resumes_from_its_last_checkpoint(tmp_path):
    """A run stopped after epoch 1 (here: trained with a 1-epoch schedule, record removed) picks up at epoch 2."""
    train(GFL, FAST + ['train_cfg.max_epochs=1'], profile='tiny', work_dir=tmp_path)
    (tmp_path / RESULT_FILE).unlink()
    result = train(GFL, FAST + ['train_cfg.max_epochs=2'], profile='tiny', work_dir=tmp_path)
    logs = '\n'.join(p.read_text() for p in tmp_path.glob('*/*.log'))
    assert 'resumed epoch: 1' in logs  # from epoch_1.pth, which repro.training.runner.resume_point picked
    assert len(_losses(tmp_path)) == 8  # 4 iterations per epoch, none repeated
    assert result['status'] == 'done'


def test_the_data_time_share_is_read_from_the_training_log(smoke_run):
    """benchmarks/data_time.py on a real run: mmengine logged every iteration (logger interval 1)."""
    sys.path.insert(0, str(REPO))
    from benchmarks.data_time import share
    work_dir, _ = smoke_run
    row = share(work_dir)
    assert row['intervals'] == 31 and row['config'] == 'gfl_r50'  # 32 iterations, the first left out
    assert 0 < row['share'] < 1 and 0 < row['data_ms'] < row['step_ms']


def test_evaluating_a_runs_weights_reproduces_its_metrics(smoke_run, tmp_path):
    """--evaluate-from: the path a zoo teacher's row takes in the coco profile, here with a local file."""
    from repro.runs.store import status
    work_dir, result = smoke_run
    weights = str(work_dir / 'weights.pth')
    evaluated = train(GFL, FAST + ['train_cfg.max_epochs=8'], profile='tiny', work_dir=tmp_path / 'eval',
                      evaluate_from=weights)
    assert evaluated['metrics'] == result['metrics'] and result['metrics']['AP50'] > 0
    assert evaluated['evaluated_from'] == weights and evaluated['run_key'] != result['run_key']
    assert status(tmp_path / 'eval', evaluated['run_key']) == 'done'  # done without weights.pth of its own
    assert not list((tmp_path / 'eval').glob('*.pth')) and 'export' not in evaluated  # nothing was trained


def test_faster_coco_eval_evaluates_a_runs_weights_to_its_metrics(smoke_run, tmp_path, monkeypatch):
    """REPRO_COCO_EVAL=faster-coco-eval on a real run's predictions: pycocotools' metrics (recorded by the run)."""
    pytest.importorskip('faster_coco_eval')
    work_dir, result = smoke_run
    monkeypatch.setenv('REPRO_COCO_EVAL', 'faster-coco-eval')
    evaluated = train(GFL, FAST + ['train_cfg.max_epochs=8'], profile='tiny', work_dir=tmp_path / 'eval',
                      evaluate_from=str(work_dir / 'weights.pth'))
    assert result['coco_eval'] == 'pycocotools' and evaluated['coco_eval'] == 'faster-coco-eval'
    assert evaluated['metrics'] == pytest.approx(result['metrics'], abs=1e-4) and result['metrics']['AP50'] > 0


def test_evaluating_a_checkpoint_of_another_config_fails_clearly(smoke_run, tmp_path):
    work_dir, _ = smoke_run
    with pytest.raises(ReproError, match='model checkpoint .* does not match the model config'):
        train(CONFIG_DIR / 'detectors/retinanet_r50.py', FAST, profile='tiny', work_dir=tmp_path / 'eval',
              evaluate_from=str(work_dir / 'weights.pth'))


def test_a_diverging_run_stops_at_once_and_is_recorded_failed(tmp_path):
    """A learning rate of 1e4 makes the loss really diverge; the run stops at the first non-finite loss."""
    from repro.runs.store import read_record, status
    overrides = FAST + ['train_cfg.max_epochs=8', 'optim_wrapper.optimizer.lr=10000.0']
    with pytest.raises(ReproError, match=r'training diverged at iteration (\d+) \(epoch \d+\): loss\w*=(nan|inf)'):
        train(GFL, overrides, profile='tiny', work_dir=tmp_path)
    record = read_record(tmp_path)
    assert record['status'] == 'failed' and status(tmp_path, record['run_key']) == 'failed'
    iteration = int(re.search(r'iteration (\d+)', record['reason']).group(1))
    assert record['reason'].startswith('Diverged: ') and iteration < 32  # well before the 32 iterations end
    assert not (tmp_path / 'weights.pth').exists()


def test_a_stale_run_trains_again_from_scratch_without_the_old_wall_time(tmp_path):
    """A 'stale' record (done, without weights: a kept record put back, taken back for a student still to train)
    is not an interrupted attempt: the run trains again, and neither its time nor its start carries over."""
    from repro.runs.store import WEIGHTS_FILE, read_record, status, write_record
    overrides = FAST + ['train_cfg.max_epochs=1']
    first = train(GFL, overrides, profile='tiny', work_dir=tmp_path)
    (tmp_path / WEIGHTS_FILE).unlink()
    write_record(tmp_path, {**read_record(tmp_path), 'wall_time_s': 1e6, 'started': '2000-01-01T00:00:00+0000'})
    assert status(tmp_path, first['run_key']) == 'stale'
    again = train(GFL, overrides, profile='tiny', work_dir=tmp_path)
    assert (tmp_path / WEIGHTS_FILE).exists() and again['metrics'] == first['metrics']
    assert again['wall_time_s'] < 1e5 and not again['started'].startswith('2000')
