"""A small results store made by real tiny runs, for the report tests: a table spec of fast runs and its records.

`crosskd:table97` (a spec written to a temporary folder) has a teacher, a student, CrossKD at layer 3 (two seeds
trained), the same CrossKD run under a second published number, PKD on the head, a row whose run failed (its
record holds the real error of loading a mismatched teacher checkpoint) and a row never run. The runs are
trained into $REPRO_WORK_DIRS (shared by pytest-xdist workers: a run another worker is training is waited for
through the store's per-run lock, never trained twice).
"""
from __future__ import annotations

import functools
import tempfile
import time
from pathlib import Path

import yaml

from conftest import FAST
from repro.plan.dag import plan
from repro.tables.spec import load_spec

# AP50 (the judged metric of a table without AP): tiny runs of a few iterations spread more on it than on AP
PUBLISHED = {'teacher': 58.4, 'student': 53.1, 'crosskd': 56.3, 'again': 55.7, 'pkd': 55.5, 'broken': 56.2,
             'ld': 55.5}
# score_thr 0: after a few iterations no score passes mmdet's 0.05, and every AP would be 0
TEACHER = FAST + ['train_cfg.max_epochs=1', 'model.test_cfg.score_thr=0.0']
STUDENT = TEACHER + ['optim_wrapper.optimizer.lr=0.015']  # not the teacher's run: another key
DISTILLED = TEACHER + ['teacher.config=configs/detectors/gfl_r50.py', f'+teacher.overrides={TEACHER!r}']
PKD = DISTILLED + ['distill.layer=3']
SEEDS = 2
TRAINED = {('teacher', 0), ('student', 0), ('crosskd', 0), ('crosskd', 1), ('pkd', 0)}  # (row, seed)


def _row(id_, role, config, overrides):
    published = {'AP50': PUBLISHED[id_], 'AP75': None if role != 'distilled' else PUBLISHED[id_] - 15.0}
    return dict(id=id_, label=id_.upper(), role=role, run=dict(config=config, overrides=overrides),
                published=published)


def write_spec(folder: Path):
    rows = [_row('teacher', 'teacher', 'configs/detectors/gfl_r50.py', TEACHER),
            _row('student', 'student', 'configs/detectors/gfl_r50.py', STUDENT),
            _row('crosskd', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED),
            _row('again', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED),  # the same run as 'crosskd'
            _row('pkd', 'distilled', 'configs/methods/pkd_head_gfl.py', PKD),
            _row('broken', 'distilled', 'configs/methods/crosskd_gfl.py', DISTILLED + ['distill.layer=2']),
            _row('ld', 'distilled', 'configs/methods/pm_gfl.py', DISTILLED)]
    data = dict(version=3, paper='crosskd', number='97', title='A report test table', description='Fast runs.',
                metrics=['AP50', 'AP75'], rows=rows)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / 'crosskd_table97.yaml'
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_spec(path)


def write_done(run, seed: int, metrics: dict) -> None:
    """A finished record of a planned run (and empty weights), where and as repro.train leaves them."""
    from repro.runs.store import WEIGHTS_FILE, default_work_dir, write_record
    work_dir = default_work_dir(run.config, 'tiny', run.key)
    write_record(work_dir, {'run_key': run.key, 'config': run.config, 'profile': 'tiny', 'seed': seed,
                            'overrides': list(run.overrides), 'role': run.role, 'rows': run.rows, 'status': 'done',
                            'work_dir': str(work_dir), 'metrics': metrics})
    (work_dir / WEIGHTS_FILE).write_bytes(b'')


def row_runs(runs, row_id: str):
    return [r for r in runs if f'crosskd:table97/{row_id}' in r.rows]


def failure_reason() -> str:
    """The real error of loading a teacher checkpoint that does not fit the teacher config (an empty one)."""
    import torch
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from repro.distill.teacher import load_teacher
    from repro.errors import ReproError
    from repro.plan.compile import compile_config
    from repro.profiles import CONFIG_DIR
    register_all_modules()
    model = MODELS.build(compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', 'tiny', TEACHER).cfg.model)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / 'empty.pth'
        torch.save({'state_dict': {}}, path)
        try:
            load_teacher(model, str(path))
        except ReproError as err:
            return f'{type(err).__name__}: {err}'
    raise AssertionError('an empty checkpoint loaded')


@functools.lru_cache(maxsize=None)
def make_store(folder: str):
    """Train the fixture's runs (those not done yet) and write the failed record; returns (spec, runs)."""
    from repro.runs.store import claim, read_record, write_record
    from repro.runs.lifecycle import train
    spec = write_spec(Path(folder))
    runs = plan(spec, 'tiny', seeds=SEEDS)
    for run in runs:
        if any((r.rpartition('/')[2], run.seed) in TRAINED for r in run.rows):
            train(run.config, list(run.overrides), 'tiny', seed=run.seed, work_dir=run.work_dir, rows=run.rows,
                  role=run.role, wandb='disabled', wait=True)
    broken = next(r for r in row_runs(runs, 'broken') if r.seed == 0)
    with claim(broken.work_dir, wait=True):
        if read_record(broken.work_dir) is None:
            write_record(broken.work_dir, {
                'run_key': broken.key, 'config': broken.config, 'profile': 'tiny', 'overrides': list(broken.overrides),
                'seed': 0, 'work_dir': str(broken.work_dir), 'role': 'distilled', 'rows': broken.rows,
                'started': time.strftime('%Y-%m-%dT%H:%M:%S%z'), 'status': 'failed', 'reason': failure_reason(),
                'wall_time_s': 0.0})
    return spec, runs
