"""Plan a table: the runs its rows need, deduplicated by run key, teachers before the runs that need them.

A row's run is its config and overrides compiled under a profile and seed (repro.plan.compile); identical
resolved configs are one run, whichever tables and rows ask for it. A distillation run whose teacher weights come
from the teacher's own run in this harness (always in tiny; in coco where mmdet's zoo has no weights) depends on
that teacher run, which the plan places first. In coco, a teacher row whose detector is in mmdet's zoo is an
evaluation of the zoo's weights (the papers' teachers are the zoo's), unless the row says `train: true`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from repro.plan.compile import Compiled, compile_config
from repro.profiles import REPO_ROOT
from repro.runs.store import default_work_dir, status, teacher_dir
from repro.plan.validate import check

COCO_TRAIN_IMAGES = 117266  # train2017 images with at least one box (mmdet's filter_empty_gt)
COCO_VAL_IMAGES = 5000
# Rough training cost per image on a V100-class GPU (forward + backward, 2 images per GPU), by backbone; a
# distillation step adds the teacher's forward, about a third of its training cost. For --dry-run estimates only.
SECONDS_PER_IMAGE = {('ResNet', 18): 0.05, ('ResNet', 34): 0.06, ('ResNet', 50): 0.08, ('ResNet', 101): 0.11,
                     ('SwinTransformer', None): 0.12, ('MobileNetV2', None): 0.05}


@dataclass
class PlannedRun:
    key: str
    config: str
    overrides: tuple[str, ...]
    seed: int
    role: str
    work_dir: Path
    compiled: Compiled | None = field(default=None, repr=False)  # None in a plan read back by repro.plan.cache
    rows: list[str] = field(default_factory=list)
    needs: str | None = None  # the run key of the teacher run this run waits for
    evaluate_from: str | None = None  # the checkpoint this run evaluates instead of training (a zoo teacher's row)
    gpu_hours: float | None = None  # coco profile: the rough training cost (estimate_gpu_hours)
    dataset: str | None = None  # the dataset layer the config names (configs/datasets/), None for COCO

    @property
    def name(self) -> str:
        return Path(self.config).stem

    def status(self) -> str:
        return status(self.work_dir, self.key)


def plan(spec, profile: str, seeds: int = 1, data_root: str | None = None,
         check_data: bool = True) -> list[PlannedRun]:
    """The runs of one table spec (repro.tables.spec.TableSpec), in an order that respects dependencies.
    check_data=False plans without the dataset on disk (--dry-run of the coco profile anywhere)."""
    runs: dict[str, PlannedRun] = {}

    def add(config: str, overrides, seed: int, role: str, row: str | None, compiled: Compiled) -> PlannedRun:
        run = runs.get(compiled.run_key)
        if run is None:
            run = runs[compiled.run_key] = PlannedRun(
                compiled.run_key, config, tuple(overrides), seed, role,
                default_work_dir(config, profile, compiled.run_key), compiled,
                evaluate_from=compiled.cfg.get('evaluate_from'),
                dataset=(compiled.cfg.get('dataset') or {}).get('name'),
                gpu_hours=estimate_gpu_hours(compiled.cfg) if profile == 'coco' else None)
        if row and row not in run.rows:
            run.rows.append(row)
        return run

    for row in spec.rows:
        for seed in range(seeds):
            compiled = compile_config(REPO_ROOT / row.run.config, profile, list(row.run.overrides),
                                      data_root=data_root, seed=seed, check_data=check_data)
            zoo = compiled.cfg.get('zoo_checkpoint')
            if row.role == 'teacher' and profile == 'coco' and zoo and not row.run.train:
                compiled = compile_config(REPO_ROOT / row.run.config, profile, list(row.run.overrides),
                                          data_root=data_root, seed=seed, check_data=check_data, evaluate_from=zoo)
            check(compiled)  # a bad override in a spec or sweep stops the plan (a dry run's too), not a run
            needs = None
            if compiled.teacher and compiled.teacher_trained_here:
                teacher = compiled.teacher
                overrides = list(compiled.cfg.teacher.get('overrides', []))
                rel = str(Path(teacher.config).resolve().relative_to(REPO_ROOT))
                needs = add(rel, overrides, 0, 'teacher', None, teacher).key
                assert runs[needs].work_dir == teacher_dir(compiled)
            run = add(row.run.config, row.run.overrides, seed, row.role, f'{spec.id}/{row.id}', compiled)
            run.needs = run.needs or needs
    return list(runs.values())


def estimate_gpu_hours(cfg) -> float | None:
    """A rough coco-profile training cost of a compiled config in GPU-hours (see SECONDS_PER_IMAGE); None where a
    backbone is unknown."""
    student = cfg.model.get('student', cfg.model)
    per_image = _per_image(student.backbone)
    if per_image is None:
        return None
    if cfg.get('evaluate_from'):  # inference alone, about a third of a training step
        return round(COCO_VAL_IMAGES * per_image / 3 / 3600, 2)
    if 'teacher' in cfg.model or 'teacher_config' in cfg.model:
        teacher = cfg.model.get('teacher') or cfg.model.teacher_config.model
        teacher_cost = _per_image(teacher.backbone)
        per_image += (teacher_cost or per_image) / 3
    loader = cfg.train_dataloader.dataset
    repeat = loader.get('times', 1) if 'dataset' in loader else 1
    epochs = cfg.train_cfg.get('max_epochs', 12)
    return round(COCO_TRAIN_IMAGES * repeat * epochs * per_image / 3600, 1)


def _per_image(backbone) -> float | None:
    kind = backbone.get('type')
    return SECONDS_PER_IMAGE.get((kind, backbone.get('depth'))) or SECONDS_PER_IMAGE.get((kind, None))


def plan_text(spec, runs, profile: str) -> str:
    lines = [f'{spec.id}: {len(runs)} runs under the {profile} profile']
    total = 0.0
    states = {run.key: run.status() for run in runs}  # each record read once
    for run in runs:
        state = states[run.key]
        hours = run.gpu_hours
        total += hours or 0.0
        needs = f' after {run.needs}' if run.needs else ''
        cost = f', ~{hours:g} GPU-h' if hours is not None else ''
        rows = ', '.join(r.rpartition('/')[2] for r in run.rows) or '(teacher of others)'
        what = ' (evaluates the zoo weights)' if run.evaluate_from else ''
        lines.append(f'  {run.key}  {state:<11} {run.role:<9} {run.name}{what}{needs}{cost}  rows: {rows}')
        evaluate = f' --evaluate-from {run.evaluate_from}' if run.evaluate_from else ''
        lines.append(f"      {run.config} {' '.join(run.overrides)} --seed {run.seed}{evaluate}".rstrip())
    done = sum(state == 'done' for state in states.values())
    evaluations = sum(bool(run.evaluate_from) for run in runs)
    lines.append(f'{done} done, {len(runs) - done} to run' +
                 (f' ({evaluations} of the {len(runs)} runs evaluate zoo weights)' if evaluations else '') +
                 (f'; about {total:.1f} GPU-hours on V100-class GPUs (rough, see repro/plan/dag.py)' if profile == 'coco'
                  else ''))
    return '\n'.join(lines)

