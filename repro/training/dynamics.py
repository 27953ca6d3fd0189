"""Training dynamics of a distillation run: per epoch, how far the student's predictions are from the teacher's and
from the ground truth on a fixed val subset (repro.distill.distances), and the epoch's val AP.

`TrainingDynamics` is an mmengine hook that repro.train registers for DistillDetector runs. It writes
`dynamics.json` in the work dir after every epoch (epoch 0 is the untrained student), has a train loop that
validates only at its end (the tiny profile's) validate AP_POINTS times for the AP curve, and logs the distances as
`dynamics/...` scalars to the run's visualizer backends (W&B included). A resumed run keeps the epochs its
checkpoint covers. The report's training-dynamics figure (repro/report/figures/dynamics.py) reads the file.
"""
from __future__ import annotations

import math
import time
from pathlib import Path

from mmengine.hooks import Hook

from repro.runs.atomic import atomic_write_json
from repro.runs.store import DYNAMICS_FILE, read_dynamics

SUBSET_IMAGES = 16  # the first val images, the same ones every epoch: two tiny-profile val batches
# Points of the AP curve where the loop would validate once: each is a pass over the val split (1000 images, about
# 1.5 minutes in the tiny profile), so every epoch would add about 15 minutes to a 12-minute run.
AP_POINTS = 4


def gt_in_original_frame(pipeline) -> bool:
    """Whether a test pipeline loads its annotations after resizing (mmdet's habit, for evaluation at the original
    size), so that its GT boxes must be scaled to the network input's frame."""
    names = [step.get('type', '') for step in pipeline]
    loads = [i for i, n in enumerate(names) if n == 'LoadAnnotations']
    resizes = [i for i, n in enumerate(names) if 'Resize' in n]
    return bool(loads and resizes and loads[0] > resizes[0])


class TrainingDynamics(Hook):
    priority = 'LOW'  # after the checkpoint hook's epoch bookkeeping, before the recorders

    def __init__(self, work_dir: str | Path, images: int = SUBSET_IMAGES):
        self.path = Path(work_dir) / DYNAMICS_FILE
        self.images = images
        self.batches: list = []
        self.epochs: list[dict] = []
        self.rescale = False
        self.seconds: list[float] = []  # each pass's cost, in the file for repro.training.smoke's share of an epoch

    def before_train(self, runner) -> None:
        # the val AP belongs to the figure: validate AP_POINTS times where the loop would validate only at the end
        # (the tiny profile's); the loop reads its intervals as it goes, and evaluating does not change the training
        loop = runner.train_loop
        if getattr(loop, 'val_interval', 1) > 1 and hasattr(loop, 'dynamic_intervals'):  # EpochBasedTrainLoop
            every = max(1, math.ceil(loop.max_epochs / AP_POINTS))
            loop.val_interval, loop.dynamic_milestones, loop.dynamic_intervals = every, [0], [every]
        self.rescale = gt_in_original_frame(runner.cfg.val_dataloader.dataset.get('pipeline', []))
        self.batches = self._subset(runner.val_dataloader)
        kept = read_dynamics(self.path.parent) or {}
        self.epochs = [e for e in kept.get('epochs', []) if e.get('epoch', 0) <= runner.epoch]
        if not any(e['epoch'] == runner.epoch for e in self.epochs):
            self._measure(runner, runner.epoch)

    def after_train_epoch(self, runner) -> None:
        self._measure(runner, runner.epoch + 1)  # mmengine counts the epoch as done after this hook

    def after_val_epoch(self, runner, metrics=None) -> None:
        from repro.training.metrics import run_metrics
        ap = run_metrics(dict(metrics or {})).get('AP')
        for entry in self.epochs:
            if entry['epoch'] == runner.epoch:
                entry['AP'] = ap
                self._write()

    def _subset(self, loader) -> list:
        batches, count = [], 0
        for batch in loader:
            batches.append(batch)
            count += len(batch['data_samples'])
            if count >= self.images:
                break
        return batches

    def _measure(self, runner, epoch: int) -> None:
        from mmengine.model import is_model_wrapper

        from repro.distill.distances import distances
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        start = time.perf_counter()
        was_training = model.training
        model.eval()
        try:
            totals, count = {}, 0
            for batch in self.batches:
                data = model.data_preprocessor(batch, False)
                samples = self._in_input_frame(data['data_samples'])
                for name, value in distances(model, data['inputs'], samples).items():
                    totals[name] = totals.get(name, 0.0) + value * len(samples)
                count += len(samples)
        finally:
            model.train(was_training)
        entry = {'epoch': epoch, **{k: round(v / max(count, 1), 6) for k, v in totals.items()}}
        self.seconds.append(round(time.perf_counter() - start, 3))
        self.epochs = [e for e in self.epochs if e['epoch'] != epoch] + [entry]
        self._write()
        runner.visualizer.add_scalars({f'dynamics/{k}': v for k, v in entry.items() if k != 'epoch'},
                                      step=runner.iter)

    def _in_input_frame(self, samples) -> list:
        """The batch's samples with GT boxes in the network input's frame (copies; the cached batch stays as is)."""
        if not self.rescale:
            return samples
        from mmdet.structures.bbox import scale_boxes
        out = []
        for sample in samples:
            sample = sample.clone()
            sample.gt_instances.bboxes = scale_boxes(sample.gt_instances.bboxes, sample.metainfo['scale_factor'])
            out.append(sample)
        return out

    def _write(self) -> None:
        atomic_write_json(self.path, {'images': sum(len(b['data_samples']) for b in self.batches),
                                      'pass_seconds': self.seconds,
                                      'epochs': sorted(self.epochs, key=lambda e: e['epoch'])})
