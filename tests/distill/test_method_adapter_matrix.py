"""Growth stays N + M: every KD method runs on every head adapter, with no code of its own per pair.

Each case writes a method config of two lines, the detector config (the first one under configs/detectors/ per head
type) and the method's terms, with a teacher of the same detector made wider (96 channels against the student's 64,
or 32 for RTMDet-S and YOLOX-S in the tiny profile), so that every pair crosses widths through distill.adapt's 1x1
kd_adapters.
One optimizer step on two 128x128 images, then where the KD loss's gradient goes:

- CrossKD (layer 1) and PGD (layer 1): the student's backbone, neck and first tower layer (every level's, for heads
  with a tower per level) and the branch adapters; never the later tower layers or the predictors. TOOD's layer 1 is
  its whole shared stack's output: every stack layer, never the decomposition, predictors or alignment branches;
- PKD, FGD, DeFeat (FPN maps): the backbone, the neck and the neck adapter; nothing of the head;
- LD (mmdet's LDHead): GFL students only, whose box predictor it reaches; any other head is refused in one line.

The teacher is never reached: it gets no gradient and its weights and BN statistics do not move.
"""
from __future__ import annotations

import functools

import pytest
import torch

from repro.distill.adapters import ADAPTERS
from repro.errors import ReproError
from repro.plan.compile import load_config
from repro.profiles import CONFIG_DIR

TEACHER_WIDTH = 96  # GN heads need a multiple of 32
BASES = CONFIG_DIR / 'methods' / '_base_'
# method -> (term bases under configs/methods/_base_, extra config text)
METHODS = {
    'crosskd': (['crosskd_box_terms.py'], 'distill = dict(layer=1, adapt=True)'),
    'pgd': (['pgd_terms.py'], 'distill = dict(adapt=True)'),
    'pkd': ([], "distill = dict(adapt=True, terms=dict(neck=dict(feature='neck', loss=dict(type='PKDLoss'), "
                "weight=6.0)))"),
    'fgd': (['fgd_terms.py'], 'distill = dict(adapt=True)'),
    'defeat': (['defeat_terms.py'], 'distill = dict(adapt=True)'),
    'ld': ([], "model = dict(type='KnowledgeDistillationSingleStageDetector', bbox_head=dict(type='LDHead', "
               "loss_ld=dict(type='KnowledgeDistillationKLDivLoss', loss_weight=0.25, T=10)))"),
}
TOWER_METHODS = ('crosskd', 'pgd')   # reach the first tower layer (distill.layer = 1)
NECK_METHODS = ('pkd', 'fgd', 'defeat')

pytestmark = pytest.mark.usefixtures('one_thread')


@functools.cache
def detectors() -> dict[str, str]:
    """bbox_head type -> the first detector config under configs/detectors/ with it."""
    found = {}
    for path in sorted((CONFIG_DIR / 'detectors').glob('*.py')):
        found.setdefault(load_config(path).model.bbox_head.type, str(path))
    return found


HEADS = sorted(detectors())


def test_every_adapter_has_a_detector_here():
    """Each registered adapter class serves at least one head type of the matrix (RTMDetHead shares RTMDet's)."""
    covered = {ADAPTERS[h] for h in HEADS if h in ADAPTERS}
    assert covered == set(ADAPTERS.values())


def overrides(path: str) -> tuple[list[str], list[str]]:
    """Student and teacher overrides: 2 tower layers, ResNet-18 for ResNet backbones, a wider teacher."""
    model = load_config(path).model
    common = ['model.bbox_head.stacked_convs=2']
    if model.backbone.type == 'ResNet':
        common.append('model.backbone.depth=18')
    teacher = common + [f'model.neck.out_channels={TEACHER_WIDTH}', f'model.bbox_head.in_channels={TEACHER_WIDTH}',
                        f'model.bbox_head.feat_channels={TEACHER_WIDTH}']
    if model.bbox_head.type == 'RTMDetSepBNHead':
        # RTMDet-L's exp on the distances: without it a random head predicts distances of about 0, boxes of no
        # area, PGW quality 0 everywhere and no PGD reg loss to follow
        teacher.append('model.bbox_head.exp_on_reg=True')
    return common, teacher


def method_config(tmp_path, method: str, head: str):
    path = detectors()[head]
    bases, extra = METHODS[method]
    student, teacher = overrides(path)
    config = tmp_path / f'{method}_{head}.py'
    config.write_text(f'_base_ = {[path] + [str(BASES / b) for b in bases]!r}\n'
                      f'teacher = dict(config={path!r})\n{extra}\n')
    return config, student + [f'+teacher.overrides={teacher!r}']


def build(config, run):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules

    from repro.plan.compile import compile_config
    register_all_modules()
    import repro.distill  # noqa: F401  registers DistillDetector
    cfg = compile_config(config, 'tiny', run).cfg
    for key in ('teacher_checkpoint', 'teacher_ckpt'):  # random teacher: this is about structure
        cfg.model.pop(key, None)
    torch.manual_seed(0)
    return MODELS.build(cfg.model)


def batch(num_classes: int, size: int = 128):
    from mmdet.structures import DetDataSample
    from mmengine.structures import InstanceData
    samples = []
    for boxes, labels in (([[10., 20., 40., 100.], [60., 60., 120., 90.]], [1, 3]), ([[30., 30., 90., 70.]], [0])):
        s = DetDataSample()
        s.set_metainfo(dict(img_shape=(size, size), pad_shape=(size, size), batch_input_shape=(size, size),
                            ori_shape=(size, size), scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor(boxes), labels=torch.tensor(labels) % num_classes)
        samples.append(s)
    torch.manual_seed(1)
    return torch.rand(2, 3, size, size) * 2 - 1, samples


def is_kd(name: str) -> bool:
    return name.startswith(('loss_kd_', 'loss_ld'))


def total(losses, kd: bool):
    values = [v for k, v in losses.items() if is_kd(k) == kd]
    return sum(v if torch.is_tensor(v) else sum(v) for v in values)


@pytest.mark.parametrize('head', HEADS)
@pytest.mark.parametrize('method', sorted(METHODS))
def test_method_on_adapter_one_step(method, head, tmp_path):
    config, run = method_config(tmp_path, method, head)
    if method == 'ld' and head != 'GFLHead':
        with pytest.raises(ReproError) as err:
            build(config, run)
        assert 'LD' in str(err.value) and '\n' not in str(err.value)
        return
    model = build(config, run)
    model.train()
    teacher = getattr(model, 'teacher', None) or model.teacher_model
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    student_head = model.bbox_head
    inputs, samples = batch(student_head.num_classes)
    losses = model.loss(inputs, samples)
    kd = total(losses, kd=True)
    assert any(is_kd(k) for k in losses) and torch.isfinite(kd)
    named = {n: p for n, p in model.named_parameters() if p.requires_grad}  # frozen BN of caffe-style configs
    grads = torch.autograd.grad(kd, list(named.values()), allow_unused=True, retain_graph=True)
    reached = {n for n, g in zip(named, grads) if g is not None and g.abs().sum() > 0}
    assert any(n.startswith('backbone.') for n in reached) and any(n.startswith('neck.') for n in reached)
    head_params = {n for n in named if n.startswith('bbox_head.')}
    if method in TOWER_METHODS and head == 'TOODHead':
        # the kept feature is the concatenation of every inter_conv's output, so each stack layer gets the gradient;
        # cls_decomp, reg_decomp, tood_cls, tood_reg, cls_prob_module and reg_offset_module come after it
        stack = {n for n in head_params if n.startswith('bbox_head.inter_convs.')}
        convs = {n for n in stack if n.endswith('conv.weight')}
        assert len(convs) == 2 and convs <= reached, sorted(convs - reached)
        assert not (head_params - stack) & reached, sorted((head_params - stack) & reached)
        assert {'kd_adapters.cls.weight', 'kd_adapters.reg.weight'} <= reached
    elif method in TOWER_METHODS:
        adapter = model.student_adapter
        first = {id(p) for branch in ('cls', 'reg') for level in range(student_head.prior_generator.num_levels)
                 for p in adapter.tower(branch, level)[0].parameters()}
        first_names = {n for n in head_params if id(named[n]) in first}
        # the first layer's conv of each branch; its norm's bias may get none: re-normalising the feature to the
        # teacher's statistics (renorm) removes any per-channel shift
        for branch in ('cls', 'reg'):
            # bbox_head.cls_convs.0..., or YOLOX's bbox_head.multi_level_cls_convs.<level>.0...
            conv = [n for n in first_names if f'{branch}_convs.' in n and n.endswith('conv.weight')]
            assert conv and set(conv) <= reached, (branch, sorted(set(conv) - reached))
        assert not (head_params - first_names) & reached, sorted((head_params - first_names) & reached)
        assert {'kd_adapters.cls.weight', 'kd_adapters.reg.weight'} <= reached
    elif method in NECK_METHODS:
        assert not head_params & reached, sorted(head_params & reached)
        assert 'kd_adapters.neck.weight' in reached
    else:  # LD on GFL: the student's box distributions
        assert 'bbox_head.gfl_reg.weight' in reached
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    optim.zero_grad()
    (kd + total(losses, kd=False)).backward()
    optim.step()
    assert all(p.grad is None for p in teacher.parameters())
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())  # BN statistics included
