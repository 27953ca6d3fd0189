"""What the overhead benchmark runs: the models of each student/teacher pair and method, a synthetic batch, and
one step of each variant.

Variants, per (dtype, batch): (a) `student`, the plain student's training step (data preprocessor, forward,
backward, optimizer step, and the loss values read back as the Runner's logging does every iteration); (b)
`teacher`, the teacher's forward (backbone, neck, head) under `no_grad` in eval mode on an already preprocessed
batch; (c) `distilled`, the method's training step, exactly as (a) on the distiller; and parts of (c) timed
alone on the same batch's outputs: `guide` (PGD's PGW masks, FGD's box masks).

Models are built from the compiled method configs (repro.plan.compile.compile_config) with random weights: no
checkpoint is loaded, and pretrained-backbone init is skipped. The optimizer is the config's, with lr 0, so that
random weights on random images cannot diverge over the steps; the update arithmetic is the same.
"""
from __future__ import annotations

import contextlib
import sys
from dataclasses import dataclass, field
from typing import Callable

import torch

from repro.cli import quiet_mmengine
from repro.errors import ReproError
from repro.profiles import REPO_ROOT

# Student / teacher detector configs of each pair: baselines (a) and (b) of the methods on that pair.
PAIRS = {
    'gfl': ('configs/detectors/gfl_r50.py', 'configs/teachers/gfl_r101.py'),
    'atss': ('configs/detectors/atss_r50.py', 'configs/teachers/atss_r101.py'),
}
# Method name -> (method config, pair). PGD is measured on GFL (the CrossKD comparison) and on ATSS (its paper).
METHODS = {
    'crosskd': ('configs/methods/crosskd_gfl.py', 'gfl'),
    'pm': ('configs/methods/pm_gfl.py', 'gfl'),
    'ld': ('configs/methods/ld_gfl.py', 'gfl'),
    'pkd': ('configs/methods/pkd_gfl.py', 'gfl'),
    'pgd': ('configs/methods/pgd_gfl.py', 'gfl'),
    'fgd': ('configs/methods/fgd_gfl.py', 'gfl'),
    'pgd_atss': ('configs/methods/pgd_atss.py', 'atss'),
}
SETTINGS = {'tiny': dict(profile='tiny', size=(192, 192)),   # (H, W): the tiny profile's synthetic images
            'real': dict(profile='coco', size=(800, 1333))}  # mmdet's 1333x800 COCO scale, padded to 800x1344
DTYPES = {'fp32': None, 'bf16': torch.bfloat16}
BOXES_PER_IMAGE = 7  # COCO train2017 averages 7.3 objects an image; the synthetic data at most 7


@dataclass
class Variant:
    """One thing to time. `run` does one step; `modules` and `optimizer` hold what it keeps resident."""
    name: str
    kind: str  # 'student', 'teacher', 'distilled', or a part of the distilled step: 'guide'
    pair: str
    dtype: str
    batch: int
    run: Callable[[], None]
    modules: list = field(default_factory=list)
    optimizer: object = None
    method: str | None = None
    times_ms: list[float] = field(default_factory=list)
    step_peaks: list[int] = field(default_factory=list)
    resident: int = 0  # bytes, set after warm-up (optimizer state exists from the first step)
    syncs: dict | None = None
    guides: tuple[str, ...] = ()  # a 'guide' variant's guide types, one per term


def model_config(config: str, setting: str):
    """The compiled model config of `config` under the setting's profile, its teacher checkpoint removed."""
    from repro.plan.compile import compile_config
    compiled = compile_config(REPO_ROOT / config, SETTINGS[setting]['profile'], check_data=False)
    cfg = compiled.cfg.model
    for key in ('teacher_checkpoint', 'teacher_ckpt'):  # random teacher weights: speed does not depend on them
        cfg.pop(key, None)
    return cfg, compiled


def build(cfg, device: str):
    """Build a model with random weights (mmdet init, pretrained checkpoints skipped) on `device`."""
    from mmdet.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(cfg)
    for module in [model, guest_of(model)]:
        if module is None:
            continue
        for sub in module.modules():
            if isinstance(getattr(sub, 'init_cfg', None), dict) and sub.init_cfg.get('type') == 'Pretrained':
                sub.init_cfg = None
        with quiet_mmengine(stdout=False):
            module.init_weights()
    return model.to(device)


def guest_of(model):
    """The frozen teacher a distiller carries outside its modules (ours: `teacher`; mmdet's LD: `teacher_model`)."""
    return getattr(model, 'teacher', None) or getattr(model, 'teacher_model', None)


def num_classes(cfg) -> int:
    student = cfg.get('student', cfg)
    return student['bbox_head']['num_classes']


def synthetic_batch(batch: int, size: tuple[int, int], classes: int, device: str, seed: int = 0) -> dict:
    """Random uint8 images and BOXES_PER_IMAGE random boxes each (sides 4-60% of the image), as a data loader
    would hand them to the data preprocessor, already on `device`."""
    from mmdet.structures import DetDataSample
    from mmdet.structures.bbox import HorizontalBoxes
    from mmengine.structures import InstanceData
    gen = torch.Generator().manual_seed(seed)
    h, w = size
    inputs, samples = [], []
    for i in range(batch):
        inputs.append(torch.randint(0, 256, (3, h, w), generator=gen, dtype=torch.uint8).to(device))
        wh = torch.rand(BOXES_PER_IMAGE, 2, generator=gen) * 0.56 + 0.04
        wh = wh * torch.tensor([w, h])
        xy = torch.rand(BOXES_PER_IMAGE, 2, generator=gen) * (torch.tensor([w, h]) - wh)
        sample = DetDataSample(metainfo=dict(img_id=i, img_shape=(h, w), ori_shape=(h, w), scale_factor=(1.0, 1.0),
                                             flip=False, flip_direction=None))
        sample.gt_instances = InstanceData(
            bboxes=HorizontalBoxes(torch.cat([xy, xy + wh], 1).to(device)),
            labels=torch.randint(0, classes, (BOXES_PER_IMAGE,), generator=gen).to(device))
        sample.ignored_instances = InstanceData(bboxes=HorizontalBoxes(torch.zeros(0, 4, device=device)),
                                                labels=torch.zeros(0, dtype=torch.long, device=device))
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def autocast(device: str, dtype: str):
    if DTYPES[dtype] is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device, dtype=DTYPES[dtype])


def optimizer_for(model, cfg):
    """The config's optim wrapper (OptimWrapper around SGD for these detectors) with lr 0."""
    from mmengine.optim import build_optim_wrapper
    optim = cfg.optim_wrapper.to_dict() if hasattr(cfg.optim_wrapper, 'to_dict') else dict(cfg.optim_wrapper)
    optim['optimizer'] = {**optim['optimizer'], 'lr': 0.0}
    return build_optim_wrapper(model, optim)


def train_step(model, optim_wrapper, data: dict, device: str, dtype: str) -> Callable[[], None]:
    """mmengine's BaseModel.train_step with autocast around the forward only, then the log values read back."""
    def run():
        with autocast(device, dtype):
            batch = model.data_preprocessor(data, True)
            losses = model._run_forward(batch, mode='loss')
            loss, log_vars = model.parse_losses(losses)
        optim_wrapper.update_params(loss)
        {k: float(v) for k, v in log_vars.items()}  # the Runner's RuntimeInfoHook does this every iteration
    return run


def teacher_forward(teacher, data: dict, device: str, dtype: str) -> Callable[[], None]:
    """Backbone, neck and head of the teacher under no_grad, on the batch its own preprocessor made (once)."""
    with torch.no_grad():
        inputs = teacher.data_preprocessor(data, False)['inputs']

    def run():
        with torch.no_grad(), autocast(device, dtype):
            teacher._forward(inputs)
    return run


def guide_types(model) -> tuple[str, ...]:
    spec = getattr(model, 'spec', None)
    return tuple(t.guide['type'] for t in spec.active if t.guide) if spec else ()


def parts(model, data: dict, device: str, dtype: str) -> dict[str, Callable[[], None]]:
    """Pieces of the distiller's step timed alone, on this batch's student and teacher outputs (computed here,
    once): 'guide', its guides (PGD: PGW and background masks, both branches; FGD: box masks). Only for methods
    that have guides."""
    from repro.distill.guides import KDContext, run_guide
    spec = getattr(model, 'spec', None)
    if spec is None:
        return {}
    terms = [t for t in spec.active if t.guide]
    if not terms:
        return {}
    with torch.no_grad(), autocast(device, dtype):
        batch = model.data_preprocessor(data, True)
        x = batch['inputs']
        feats = list(model.extract_feat(x))
        t_feats = list(model.teacher.extract_feat(model.teacher_inputs(x)))
        s_out = model.student_adapter.forward(feats, spec.layer)
        t_out = model.teacher_adapter.forward(t_feats, spec.layer)

    def context():
        return KDContext(model.student_adapter, model.teacher_adapter, feats, t_feats, s_out, t_out,
                         batch['data_samples'])

    def guide():  # one context for the step's terms, as in the step: terms that ask alike share an answer
        with torch.no_grad(), autocast(device, dtype):
            ctx = context()
            for term in terms:
                run_guide(term.guide, ctx)
    return {'guide': guide}


def dtypes_for(pair: str, s_cfg, t_cfg, dtypes: list[str], device: str) -> list[str]:
    """`dtypes` less bf16 on CUDA where a detector's classification loss is mmdet's FocalLoss (ATSS, RetinaNet):
    on CUDA it calls mmcv's sigmoid_focal_loss, whose 2.1.0 kernels take fp32 and fp16 only (measured on an H200:
    "not implemented for 'BFloat16'"). Says so on stderr rather than crash the whole benchmark."""
    heads = (s_cfg.get('student', s_cfg)['bbox_head'], t_cfg['bbox_head'])
    focal = any(head.get('loss_cls', {}).get('type') == 'FocalLoss' for head in heads)
    if device != 'cuda' or 'bf16' not in dtypes or not focal:
        return dtypes
    print(f"bf16 skipped for the {pair} pair: mmcv 2.1.0's CUDA sigmoid_focal_loss (mmdet's FocalLoss) has no "
          "bf16 kernel", file=sys.stderr)
    return [d for d in dtypes if d != 'bf16']


def make_variants(setting: str, methods: list[str], dtypes: list[str], batches: list[int],
                  device: str) -> list[Variant]:
    """Build every model once and the variants that time them, in a fixed order (the timing loop rotates it)."""
    import repro.distill  # noqa: F401  registers DistillDetector
    from mmdet.utils import register_all_modules
    register_all_modules()
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ReproError(f"unknown method(s) {', '.join(unknown)}: choose from {', '.join(METHODS)}")
    size = SETTINGS[setting]['size']
    pairs = sorted({METHODS[m][1] for m in methods}, key=list(PAIRS).index)
    variants: list[Variant] = []
    for pair in pairs:
        s_cfg, s_compiled = model_config(PAIRS[pair][0], setting)
        t_cfg, _ = model_config(PAIRS[pair][1], setting)
        student, teacher = build(s_cfg, device).train(), build(t_cfg, device).eval().requires_grad_(False)
        s_optim = optimizer_for(student, s_compiled.cfg)
        classes = num_classes(s_cfg)
        pair_dtypes = dtypes_for(pair, s_cfg, t_cfg, dtypes, device)
        for dtype in pair_dtypes:
            for batch in batches:
                data = synthetic_batch(batch, size, classes, device)
                tag = f'{pair}/{dtype}/b{batch}'
                variants.append(Variant(f'student {tag}', 'student', pair, dtype, batch,
                                        train_step(student, s_optim, data, device, dtype), [student], s_optim))
                variants.append(Variant(f'teacher {tag}', 'teacher', pair, dtype, batch,
                                        teacher_forward(teacher, data, device, dtype), [teacher]))
        for method in (m for m in methods if METHODS[m][1] == pair):
            cfg, compiled = model_config(METHODS[method][0], setting)
            if compiled.teacher is None or not str(compiled.teacher.config).endswith(PAIRS[pair][1]):
                raise ReproError(f'{METHODS[method][0]} does not distil {PAIRS[pair][1]}: '
                                 'update PAIRS / METHODS in benchmarks/variants.py')
            model = build(cfg, device)
            model.train()  # mmdet's LD detector returns None from train()
            optim = optimizer_for(model, compiled.cfg)
            for dtype in pair_dtypes:
                for batch in batches:
                    data = synthetic_batch(batch, size, classes, device)
                    tag = f'{pair}/{dtype}/b{batch}'
                    variants.append(Variant(f'{method} {tag}', 'distilled', pair, dtype, batch,
                                            train_step(model, optim, data, device, dtype),
                                            [model, guest_of(model)], optim, method=method))
                    for kind, run in parts(model, data, device, dtype).items():
                        variants.append(Variant(f'{method}:{kind} {tag}', kind, pair, dtype, batch, run,
                                                method=method, guides=guide_types(model) if kind == 'guide' else ()))
    return variants
