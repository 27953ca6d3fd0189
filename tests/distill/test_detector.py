"""DistillDetector: where KD gradients go, and that the teacher stays a frozen guest."""
import pytest
import torch
from mmengine.structures import InstanceData

from repro.errors import ReproError
from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR

SMALL = ['model.backbone.depth=18', '+teacher.overrides=["model.backbone.depth=18"]']
METHODS = CONFIG_DIR / 'methods'


def resnets_only(method) -> bool:
    """Whether student and teacher both have ResNet backbones (SMALL's depth override needs one)."""
    from repro.plan.compile import load_config
    cfg = load_config(METHODS / method)
    teacher = load_config(CONFIG_DIR.parent / cfg.teacher.config)
    return cfg.model.backbone.type == teacher.model.backbone.type == 'ResNet'


def build(method, overrides=()):
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules()
    import repro.distill  # noqa: F401  registers DistillDetector
    small = SMALL if resnets_only(method) else []
    cfg = compile_config(METHODS / method, 'tiny', small + list(overrides)).cfg
    for key in ('teacher_checkpoint', 'teacher_ckpt'):  # random teacher: these tests are about structure
        cfg.model.pop(key, None)
    torch.manual_seed(0)
    return MODELS.build(cfg.model), cfg


def batch(size=128, num_classes=6):
    """Two images: a tall and a wide box, and one box; labels taken modulo num_classes (1 for the crowd data)."""
    from mmdet.structures import DetDataSample
    samples = []
    for boxes, labels in (([[10., 20., 40., 100.], [60., 60., 120., 90.]], [1, 3]), ([[30., 30., 90., 70.]], [0])):
        labels = [label % num_classes for label in labels]
        s = DetDataSample()
        s.set_metainfo(dict(img_shape=(size, size), pad_shape=(size, size), batch_input_shape=(size, size),
                            ori_shape=(size, size), scale_factor=(1.0, 1.0)))
        s.gt_instances = InstanceData(bboxes=torch.tensor(boxes), labels=torch.tensor(labels))
        samples.append(s)
    return torch.rand(2, 3, size, size) * 2 - 1, samples


def kd_grads(model):
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    kd = total(losses, kd=True)
    params = dict(model.named_parameters())
    grads = torch.autograd.grad(kd, list(params.values()), allow_unused=True, retain_graph=True)
    return {name: g for name, g in zip(params, grads) if g is not None and g.abs().sum() > 0}, losses


def total(losses, kd: bool):
    """Sum of the KD terms (kd=True) or of the detection terms; mmdet heads return some losses per level."""
    values = [v for k, v in losses.items() if k.startswith('loss_kd_') == kd]
    return sum(v if torch.is_tensor(v) else sum(v) for v in values)


def head_layer_params(model, branch, index):
    return [n for n, _ in model.named_parameters() if n.startswith(f'bbox_head.{branch}_convs.{index}.')]


@pytest.mark.parametrize('layer', [0, 1, 2, 3, 4])
def test_crosskd_gradient_reaches_head_layers_before_i_only(layer):
    model, _ = build('crosskd_gfl.py', [f'distill.layer={layer}'])
    reached, losses = kd_grads(model)
    assert torch.isfinite(losses['loss_kd_cls']) and torch.isfinite(losses['loss_kd_reg'])
    for branch in ('cls', 'reg'):
        for i in range(4):
            names = head_layer_params(model, branch, i)
            assert names
            if i < layer:
                assert all(n in reached for n in names), (branch, i, 'should get a KD gradient')
            else:
                assert not any(n in reached for n in names), (branch, i, 'must not get a KD gradient')
    predictors = [n for n, _ in model.named_parameters() if n.startswith(('bbox_head.gfl_', 'bbox_head.scales'))]
    assert predictors and not any(n in reached for n in predictors)
    assert any(n.startswith('backbone.') for n in reached) and any(n.startswith('neck.') for n in reached)
    if layer == 0:
        assert not any(n.startswith('bbox_head.') for n in reached)


def test_predictors_still_learn_from_the_detection_loss():
    model, _ = build('crosskd_gfl.py')
    inputs, samples = batch()
    losses = model.loss(inputs, samples)
    total(losses, kd=False).backward()
    assert model.bbox_head.gfl_cls.weight.grad.abs().sum() > 0


def test_prediction_mimicking_reaches_the_whole_head():
    model, _ = build('pm_gfl.py')
    reached, _ = kd_grads(model)
    assert 'bbox_head.gfl_cls.weight' in reached and 'bbox_head.gfl_reg.weight' in reached
    assert all(n in reached for n in head_layer_params(model, 'cls', 3))


def test_pkd_on_the_neck_never_reaches_the_head():
    model, _ = build('pkd_gfl.py')
    reached, losses = kd_grads(model)
    assert 'loss_kd_neck' in losses
    assert any(n.startswith('neck.') for n in reached) and not any(n.startswith('bbox_head.') for n in reached)


ALL_METHODS = sorted(p.name for p in METHODS.glob('*.py'))


@pytest.mark.parametrize('method', ALL_METHODS)
def test_teacher_is_a_frozen_guest(method):
    model, _ = build(method)
    teacher = getattr(model, 'teacher', None) or model.teacher_model  # ours, or mmdet's LD detector
    assert not any(k.startswith('teacher') for k in model.state_dict())
    assert not ({id(p) for p in teacher.parameters()} & {id(p) for p in model.parameters()})
    before = {k: v.clone() for k, v in teacher.state_dict().items()}
    model.train()
    assert not teacher.training
    optim = torch.optim.SGD(model.parameters(), lr=0.01)
    head = getattr(model, 'bbox_head', None) or model.student.bbox_head
    for _ in range(2):
        inputs, samples = batch(num_classes=head.num_classes)
        losses = model.loss(inputs, samples)
        loss = total(losses, kd=True) + total(losses, kd=False)
        assert torch.isfinite(loss)
        optim.zero_grad()
        loss.backward()
        optim.step()
    assert all(torch.equal(before[k], v) for k, v in teacher.state_dict().items())  # BN statistics included
    assert all(p.grad is None for p in teacher.parameters())


OUTLIVE_METHODS = [m for m in ALL_METHODS if m.endswith('_gfl.py')] + [
    'pgd_atss.py', 'pgd_fcos.py', 'rm_retinanet.py', 'pfi_retinanet.py', 'head_retinanet_r18_retina_r50.py']


@pytest.mark.parametrize('method', OUTLIVE_METHODS)
def test_teacher_outputs_do_not_outlive_the_step(method):
    """Issue 8: teacher features and predictions are freed once the step's backward pass is done (no cache of
    them on the model, the head or a guide keeps them alive into the next step)."""
    import gc
    import weakref
    model, _ = build(method)
    model.train()
    teacher = getattr(model, 'teacher', None) or model.teacher_model
    outputs = []

    def remember(module, args, output):
        for value in output if isinstance(output, (tuple, list)) else [output]:
            for tensor in value if isinstance(value, (tuple, list)) else [value]:
                if torch.is_tensor(tensor):
                    outputs.append(weakref.ref(tensor))

    hooks = [m.register_forward_hook(remember) for m in (teacher.backbone, teacher.neck, teacher.bbox_head)]
    head = getattr(model, 'bbox_head', None) or model.student.bbox_head
    inputs, samples = batch(num_classes=head.num_classes)
    losses = model.loss(inputs, samples)
    (total(losses, kd=True) + total(losses, kd=False)).backward()
    for hook in hooks:
        hook.remove()
    assert outputs, 'the teacher ran no forward'
    del losses
    gc.collect()
    alive = [ref() for ref in outputs if ref() is not None]
    assert not alive, f'{len(alive)} of {len(outputs)} teacher outputs still alive, e.g. {tuple(alive[0].shape)}'


def test_student_weights_load_into_the_plain_detector():
    from mmdet.registry import MODELS
    model, cfg = build('crosskd_gfl.py')
    plain = MODELS.build(cfg.model.student)
    plain.load_state_dict(model.state_dict(), strict=True)
    assert all(not p.requires_grad for p in model.teacher.parameters())
    model.double()  # moving the distiller moves its teacher too
    assert next(model.teacher.parameters()).dtype == torch.float64


def test_inherit_starts_the_students_neck_and_head_from_the_teachers():
    """distill.inherit (PGD's released init_student=True): after init_weights, every neck and head tensor equals the
    teacher's, the backbone keeps its own initialisation, and the KD-only modules are untouched."""
    model, _ = build('pgd_atss.py')
    kd_before = {k: v.clone() for k, v in model.state_dict().items() if k.startswith('kd_')}
    model.init_weights()
    own, teacher = model.state_dict(), model.teacher.state_dict()
    copied = [k for k in teacher if not k.startswith('backbone.') and not k.endswith('num_batches_tracked')]
    assert any(k.startswith('neck.') for k in copied) and any(k.startswith('bbox_head.') for k in copied)
    assert all(torch.equal(own[k], teacher[k]) for k in copied)
    convs = [k for k, v in own.items() if k.startswith('backbone.') and v.dim() == 4]
    assert convs and not any(torch.equal(own[k], teacher[k]) for k in convs)
    assert all(torch.equal(own[k], v) for k, v in kd_before.items())
    plain, _ = build('pgd_atss.py', ['distill.inherit=False'])
    plain.init_weights()
    assert not torch.equal(plain.state_dict()['bbox_head.atss_cls.weight'], plain.teacher.state_dict()['bbox_head.atss_cls.weight'])


def test_inherit_copies_what_matches_and_refuses_a_pair_with_nothing_to_copy():
    """As the released non-strict load: tensors of another shape (a MobileNetV2 student's FPN laterals) keep the
    student's own values; a pair that shares no neck or head tensor is refused in one line."""
    from torch import nn
    from repro.distill.teacher import inherit_from_teacher

    def detector(width_in, classes):
        return nn.ModuleDict(dict(backbone=nn.Linear(3, width_in), neck=nn.Linear(width_in, 8),
                                  bbox_head=nn.Linear(8, classes)))
    student, teacher = detector(4, 6), detector(16, 6)
    lateral = student['neck'].weight.clone()
    inherit_from_teacher(student, teacher)
    assert torch.equal(student['neck'].weight, lateral) and torch.equal(student['neck'].bias, teacher['neck'].bias)
    assert torch.equal(student['bbox_head'].weight, teacher['bbox_head'].weight)
    assert not torch.equal(student['backbone'].bias, teacher['backbone'].bias)
    with pytest.raises(ReproError, match='distill.inherit copies nothing'):
        inherit_from_teacher(nn.ModuleDict(dict(neck=nn.Linear(4, 8))), nn.ModuleDict(dict(neck=nn.Linear(16, 9))))


def test_different_head_widths_are_refused():
    with pytest.raises(ReproError, match='head widths differ at layer 3 .64 vs 32 channels.*distill.adapt=True'):
        build('crosskd_gfl.py', ['+teacher.overrides=["model.bbox_head.feat_channels=32"]'])


@pytest.mark.parametrize('override, message', [
    ('distill.layer=7', 'distill.layer is 7: the head has 4 tower layers'),
    ('distill.terms.cls.region=everywhere', "distill.terms.cls.region is 'everywhere'"),
    ('+distill.terms.cls.gamma=2', r"unknown keys \['gamma'\] in distill.terms.cls"),
    ('+distill.inherit=yes', "distill.inherit is 'yes': use True or False"),
])
def test_bad_distill_settings_are_named(override, message):
    with pytest.raises(ReproError, match=message):
        build('crosskd_gfl.py', [override])


@pytest.mark.parametrize('layer', [1, 3])
def test_strategy_b_reaches_student_head_layers_from_i_and_nothing_before(layer):
    model, _ = build('crosskd_strategy_b_gfl.py', [f'distill.layer={layer}'])
    reached, _ = kd_grads(model)
    for branch in ('cls', 'reg'):
        for i in range(4):
            names = head_layer_params(model, branch, i)
            assert all(n in reached for n in names) if i >= layer else not any(n in reached for n in names)
    assert 'bbox_head.gfl_cls.weight' in reached
    assert not any(n.startswith(('backbone.', 'neck.')) for n in reached)


@pytest.mark.parametrize('method', ['crosskd_strategy_c_gfl.py', 'crosskd_strategy_d_gfl.py'])
def test_strategies_c_and_d_train_the_student_head_towards_detached_targets(method):
    model, _ = build(method)
    reached, losses = kd_grads(model)
    assert torch.isfinite(losses['loss_kd_cls']) and 'bbox_head.gfl_cls.weight' in reached
    assert all(p.grad is None for p in model.teacher.parameters())


def test_a_target_not_detached_takes_the_gradient_through_its_own_path_too():
    """Strategy (d) with detach=False: the same loss, and the gradient of the student head's layers i..end and
    predictors now also comes through the reverse path (teacher features through them); nothing before layer i
    changes, and the teacher still takes none."""
    detached, _ = build('crosskd_strategy_d_gfl.py')
    both, _ = build('crosskd_strategy_d_gfl.py', ['+distill.terms.cls.detach=False', '+distill.terms.reg.detach=False'])
    torch.manual_seed(1)
    g1, l1 = kd_grads(detached)
    torch.manual_seed(1)  # the same images
    g2, l2 = kd_grads(both)
    assert torch.equal(l1['loss_kd_cls'], l2['loss_kd_cls'])
    assert set(g1) == set(g2) and not any(n.startswith('teacher.') for n in g2)
    changed = {n for n in g1 if not torch.equal(g1[n], g2[n])}
    after_i = {n for b in ('cls', 'reg') for n in head_layer_params(detached, b, 3)} | {
        'bbox_head.gfl_cls.weight', 'bbox_head.gfl_reg.weight'}
    assert after_i <= changed
    assert not any(n.startswith(('backbone.', 'neck.')) or '_convs.0.' in n or '_convs.2.' in n for n in changed)


def test_a_teacher_target_cannot_take_a_gradient():
    with pytest.raises(ReproError, match=r"distill.terms.cls.detach is False: use True, or False with a 'cross'"):
        build('crosskd_gfl.py', ['+distill.terms.cls.detach=False'])


def test_a_1x1_adapter_bridges_different_head_widths(tmp_path):
    from mmdet.registry import MODELS

    from repro.training.runner import save_weights
    narrow_teacher = '+teacher.overrides=["model.backbone.depth=18", "model.bbox_head.feat_channels=32"]'
    model, cfg = build('crosskd_gfl.py', [narrow_teacher, '+distill.adapt=True'])
    reached, losses = kd_grads(model)
    assert torch.isfinite(losses['loss_kd_cls'])
    assert 'kd_adapters.cls.weight' in reached and 'kd_adapters.reg.weight' in reached
    assert model.kd_adapters.cls.weight.shape == (32, 64, 1, 1)
    save_weights(model, tmp_path / 'weights.pth', {'run_key': 'key'})
    plain = MODELS.build(cfg.model.student)
    plain.load_state_dict(torch.load(tmp_path / 'weights.pth', weights_only=True)['state_dict'], strict=True)


@pytest.mark.parametrize('method', ['crosskd_gfl.py', 'crosskd_fcos.py', 'crosskd_retinanet.py', 'crosskd_atss.py',
                                    'crosskd_rtmdet.py',  # RTMDet: assignment from predictions
                                    'crosskd_yolox.py'])  # YOLOX: from predictions, image by image
def test_the_kd_terms_reuse_the_detection_losss_target_assignment(method, monkeypatch):
    """One target assignment per step: the KD terms' region weights (HeadAdapter.targets) come from the assignment
    the detection loss made, and they equal a fresh assignment's."""
    model, _ = build(method)
    head = model.bbox_head
    calls, anchor_calls = [], []
    # YOLOXHead has no get_targets: it assigns each image with _get_targets_single
    name = 'get_targets' if hasattr(head, 'get_targets') else '_get_targets_single'
    per_step = 1 if name == 'get_targets' else len(batch()[1])
    original = getattr(type(head), name)
    monkeypatch.setattr(type(head), name, lambda self, *a, **k: calls.append(1) or original(self, *a, **k))
    if hasattr(head, 'get_anchors'):  # anchor heads: the anchors and valid flags are made once too
        anchors = type(head).get_anchors
        monkeypatch.setattr(type(head), 'get_anchors',
                            lambda self, *a, **k: anchor_calls.append(1) or anchors(self, *a, **k))
    inputs, samples = batch()
    shared = {}
    real_targets = model.student_adapter.targets
    monkeypatch.setattr(model.student_adapter, 'targets', lambda *a: shared.setdefault('t', real_targets(*a)))
    losses = model.loss(inputs, samples)
    assert len(calls) == per_step and any(k.startswith('loss_kd_') for k in losses)
    assert len(anchor_calls) == (1 if hasattr(head, 'get_anchors') else 0)
    fresh = real_targets(model.student_adapter.forward(model.extract_feat(inputs), model.spec.layer), samples)
    assert len(calls) == 2 * per_step  # outside a step nothing is shared
    for name in ('valid', 'pos', 'num_pos'):
        assert torch.equal(getattr(shared['t'], name), getattr(fresh, name))


def test_yolox_tiny_data_and_mode_switch():
    """YOLOX in the tiny profile: its MultiImageMixDataset stays (YOLOXModeSwitchHook talks to it) with no transforms
    of its own, so a sample is the tiny pipeline's; BatchSyncRandomResize resizes batches within 128-256 px; the
    mode switch comes in the last epoch and turns on the student's L1 loss, which the distiller then reports."""
    from types import SimpleNamespace

    from mmdet.engine.hooks import YOLOXModeSwitchHook
    from mmdet.registry import DATASETS
    model, cfg = build('crosskd_yolox.py')
    loader = cfg.train_dataloader.dataset
    assert loader.type == 'MultiImageMixDataset' and loader.pipeline == []
    dataset = DATASETS.build(loader)
    sample = dataset[0]
    assert max(sample['inputs'].shape[-2:]) == 192
    (augment,) = cfg.model.student.data_preprocessor.batch_augments
    assert augment.type == 'BatchSyncRandomResize' and tuple(augment.random_size_range) == (128, 256)
    from mmengine.logging import MessageHub
    MessageHub.get_current_instance().update_info('iter', 9)  # the resize draws a new size every 10th iteration
    (resize,) = model.data_preprocessor.batch_augments
    sizes = set()
    for _ in range(20):
        model.data_preprocessor({'inputs': [sample['inputs']], 'data_samples': [sample['data_samples']]}, True)
        sizes.add(resize._input_size[0])
    assert sizes <= {128, 160, 192, 224, 256} and len(sizes) > 1
    (switch,) = [h for h in cfg.custom_hooks if h.type == 'YOLOXModeSwitchHook']
    hook = YOLOXModeSwitchHook(num_last_epochs=switch.num_last_epochs)
    logger = SimpleNamespace(info=lambda message: None)
    # mmdet switches when epoch + 1 >= max_epochs - num_last_epochs (0-based epochs): at epoch 22 of 24 here
    runner = SimpleNamespace(epoch=cfg.train_cfg.max_epochs - 3, max_epochs=cfg.train_cfg.max_epochs, model=model,
                             train_dataloader=SimpleNamespace(dataset=dataset), logger=logger)
    hook.before_train_epoch(runner)
    assert not model.bbox_head.use_l1
    runner.epoch += 1
    hook.before_train_epoch(runner)
    assert model.bbox_head.use_l1 and dataset._skip_type_keys == ('Mosaic', 'RandomAffine', 'MixUp')
    model.train()
    losses = model.loss(*batch(num_classes=model.bbox_head.num_classes))
    assert 'loss_l1' in losses and any(k.startswith('loss_kd_') for k in losses)
