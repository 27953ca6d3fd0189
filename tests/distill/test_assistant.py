"""HEAD's assistant-head detector: where its gradients go, its start from the teacher, its mimic ramp."""
import pytest
import torch
from mmengine.logging import MessageHub

from repro.distill.assistant import shared_fc_outputs
from repro.errors import ReproError

TWO_STAGE = 'head_retinanet_r18_faster_r50.py'
DENSE = 'head_retinanet_r18_retina_r50.py'


def built(method):
    from test_detector import build
    model, _ = build(method)
    model.init_weights()
    return model


@pytest.mark.parametrize('method', [TWO_STAGE, DENSE])
def test_kd_reaches_backbone_neck_and_assistant_never_the_student_head_or_teacher(method):
    from test_detector import batch, kd_grads, total
    model = built(method)
    reached, losses = kd_grads(model)
    assert {'loss_kd_mimic0', 'loss_kd_mimic1', 'loss_kd_assistant_cls', 'loss_kd_assistant_bbox'} <= set(losses)
    assert any(n.startswith('backbone.') for n in reached) and any(n.startswith('neck.') for n in reached)
    assert any(n.startswith('kd_assistant.') for n in reached) and any(n.startswith('kd_mimic.') for n in reached)
    assert not any(n.startswith('bbox_head.') for n in reached)  # the student's head learns from the GT alone
    assert all(p.grad is None for p in model.teacher.parameters())
    assert not any(p.requires_grad for p in model.teacher.parameters())
    params = dict(model.named_parameters())  # and the detection loss does not train the assistant
    inputs, samples = batch()
    det = total(model.loss(inputs, samples), kd=False)
    grads = torch.autograd.grad(det, list(params.values()), allow_unused=True)
    assert not any(g is not None and g.abs().sum() > 0 for n, g in zip(params, grads) if n.startswith('kd_'))


@pytest.mark.parametrize('method', [TWO_STAGE, DENSE])
def test_assistant_starts_as_the_teachers_head_and_stays_out_of_the_student(method):
    model = built(method)
    source = model.teacher.roi_head if model.two_stage else model.teacher.bbox_head
    mine = model.kd_assistant.state_dict()
    assert all(torch.equal(mine[k], v) for k, v in source.state_dict().items())
    assert not any(k.startswith('teacher') for k in model.state_dict())
    student = {k for k in model.state_dict() if not k.startswith('kd_')}
    assert student and all(k.startswith(('backbone.', 'neck.', 'bbox_head.')) for k in student)


def test_shared_fc_outputs_are_what_the_box_head_classifies():
    model = built(TWO_STAGE)
    head = model.teacher.roi_head.bbox_head
    roi_feats = torch.randn(3, head.in_channels, *head.roi_feat_size)
    outputs = shared_fc_outputs(head, roi_feats)
    assert [o.shape[1] for o in outputs] == [fc.out_features for fc in head.shared_fcs]
    cls_score, _ = head(roi_feats)
    assert torch.allclose(head.fc_cls(head.relu(outputs[-1])), cls_score, atol=1e-6)


def test_mimic_weight_ramps_up_over_the_warmup_iterations():
    from test_detector import batch
    model = built(DENSE)
    model.warmup_iters = 10
    inputs, samples = batch()
    hub = MessageHub.get_current_instance()
    values = []
    for it in (0, 9, 50):
        hub.update_info('iter', it)
        torch.manual_seed(0)
        with torch.no_grad():
            values.append(model.loss(inputs, samples)['loss_kd_mimic0'].item())
    hub.update_info('iter', 0)
    assert values[1] == pytest.approx(10 * values[0], rel=1e-5)  # 1/10 of the weight at the first iteration
    assert values[2] == pytest.approx(values[1], rel=1e-5)       # full weight after the ramp


def test_bad_assist_key_is_a_clear_error():
    from test_detector import build
    with pytest.raises(ReproError, match=r"unknown assist keys \['mimic'\]"):
        build(DENSE, ['+assist.mimic=1'])
