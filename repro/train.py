"""Train and evaluate one run with mmengine's Runner: `python -m repro.train CONFIG [key=value ...]`.

The work dir gets mmengine's checkpoints and logs and, when the run finishes, `result.json` with the COCO
metrics and the run's provenance. A rerun resumes from the last checkpoint; a finished run is not retrained.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from mmengine.hooks import Hook

from repro.cli import run_cli
from repro.errors import ReproError
from repro.mmdet_bridge import WEIGHTS_FILE
from repro.profiles import PROFILES, REPO_ROOT, default_profile

METRICS = {'AP': 'bbox_mAP', 'AP50': 'bbox_mAP_50', 'AP75': 'bbox_mAP_75', 'APs': 'bbox_mAP_s',
           'APm': 'bbox_mAP_m', 'APl': 'bbox_mAP_l'}
RESULT_FILE = 'result.json'


def default_work_dir(config: str | Path, profile: str, run_key: str) -> Path:
    """$REPRO_WORK_DIRS (default: work_dirs in the repo) / profile / <config name>-<run key>."""
    root = Path(os.environ.get('REPRO_WORK_DIRS') or REPO_ROOT / 'work_dirs')
    return root / profile / f'{Path(config).stem}-{run_key}'


def coco_metrics(metrics: dict) -> dict[str, float]:
    """mmdet's CocoMetric keys (fractions) as the papers print them: AP, AP50, ... in percent.

    CocoMetric returns no keys at all when the model predicted no box on the whole val split: that is AP 0.
    """
    if not any(k.startswith('coco/') for k in metrics):
        return {name: 0.0 for name in METRICS}
    return {name: round(float(metrics[f'coco/{key}']) * 100, 2) for name, key in METRICS.items()}


def train(config: str | Path, overrides: list[str] | None = None, profile: str | None = None,
          data_root: str | None = None, seed: int = 0, work_dir: str | Path | None = None) -> dict:
    """Train and evaluate one run; returns the result record that is also written to result.json."""
    from repro.checkpoint import allow_mmengine_checkpoints
    from repro.io import atomic_write_json
    from repro.mmdet_bridge import compile_config
    from repro.provenance import provenance

    profile = profile or default_profile(data_root)
    compiled = compile_config(config, profile, overrides, data_root=data_root, seed=seed)
    work_dir = Path(work_dir or default_work_dir(config, profile, compiled.run_key))
    result_path = work_dir / RESULT_FILE
    if result_path.exists():
        result = json.loads(result_path.read_text())
        if result.get('run_key') == compiled.run_key:
            print(f'{Path(config).stem}: already done in {work_dir}, AP {result["metrics"].get("AP")}')
            return result
        raise ReproError(f'{work_dir} holds a different run ({result.get("run_key")}); pass another --work-dir')

    if compiled.teacher and not Path(compiled.teacher_checkpoint).exists() and compiled.profile == 'tiny':
        teacher = compiled.teacher
        print(f'{Path(config).stem}: training its teacher {teacher.config.name} first')
        train(teacher.config, list(compiled.cfg.teacher.get('overrides', [])), profile, data_root)
    cfg = compiled.cfg
    cfg.work_dir = str(work_dir)
    # mmengine keeps one Visualizer per name in the process: a second run would write into the first's vis_data
    cfg.visualizer.name = f'visualizer-{compiled.run_key}-{time.time_ns()}'
    cfg.resume = (work_dir / 'last_checkpoint').exists()  # mmengine resumes from the latest checkpoint
    allow_mmengine_checkpoints()
    from mmengine.runner import Runner
    from mmengine.utils import import_modules_from_strings
    if cfg.get('custom_imports'):  # Config.fromfile honours it, Runner.from_cfg does not
        import_modules_from_strings(**cfg.custom_imports)
    start = time.time()
    runner = Runner.from_cfg(cfg)
    recorder = _MetricsRecorder()
    runner.register_hook(recorder, priority='LOWEST')
    runner.train()
    if not recorder.metrics:  # a schedule whose last epoch did not evaluate
        recorder.metrics = runner.val_loop.run()
    save_weights(runner.model, work_dir / WEIGHTS_FILE, compiled.run_key)
    result = {
        'run_key': compiled.run_key, 'config': str(config), 'profile': profile, 'overrides': list(overrides or []),
        'seed': seed, 'status': 'done', 'metrics': coco_metrics(recorder.metrics),
        'wall_time_s': round(time.time() - start, 1), 'work_dir': str(work_dir), **provenance(),
    }
    atomic_write_json(result_path, result)
    print(f'{Path(config).stem}: AP {result["metrics"].get("AP")} ({result["wall_time_s"]:.0f} s) -> {result_path}')
    return result


def save_weights(model, path: Path, run_key: str) -> None:
    """The final model weights alone (for a distiller: the plain student's), written atomically."""
    import io

    import torch
    from mmengine.model import is_model_wrapper

    from repro.distill.detector import KD_ONLY_PREFIX
    from repro.io import atomic_write_bytes
    model = model.module if is_model_wrapper(model) else model
    state = {k: v for k, v in model.state_dict().items() if not k.startswith(KD_ONLY_PREFIX)}
    buffer = io.BytesIO()
    torch.save({'state_dict': state, 'meta': {'run_key': run_key}}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


class _MetricsRecorder(Hook):
    """Keeps the metrics of the last evaluation that ran during training."""

    def __init__(self):
        self.metrics: dict = {}

    def after_val_epoch(self, runner, metrics=None):
        self.metrics = dict(metrics or {})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog='python -m repro.train', description=__doc__.splitlines()[0])
    parser.add_argument('config', help='model config, e.g. configs/detectors/gfl_r50.py')
    parser.add_argument('overrides', nargs='*', metavar='key=value', help='config overrides (keys must exist)')
    parser.add_argument('--profile', choices=PROFILES, help='default: coco if COCO is found, else tiny')
    parser.add_argument('--data-root', help='COCO root for the coco profile (default: data/coco)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--work-dir', help='default: work_dirs/<profile>/<config>-<run key>')
    args = parser.parse_args(argv)
    train(args.config, args.overrides, args.profile, args.data_root, args.seed, args.work_dir)


if __name__ == '__main__':
    run_cli(main)
