"""The training-dynamics distances (repro.distill.distances) and the hook's GT-frame rule (repro.training.dynamics)."""
import pytest
import torch

from repro.distill.distances import distances
from repro.training.dynamics import gt_in_original_frame
from test_detector import batch, build, total


def test_a_student_identical_to_its_teacher_is_at_distance_zero_from_it():
    model, _ = build('crosskd_gfl.py')
    model.teacher.load_state_dict(model.state_dict())  # same architecture under SMALL: a copy of the student
    model.eval()
    inputs, samples = batch()
    near = distances(model, inputs, samples)
    assert near['to_teacher/cls'] == pytest.approx(0.0, abs=1e-6)
    assert near['to_teacher/box'] == pytest.approx(0.0, abs=1e-5)
    with torch.no_grad():
        model.teacher.bbox_head.gfl_cls.bias.add_(1.0)  # the teacher's scores move: the cls distance grows
    assert distances(model, inputs, samples)['to_teacher/cls'] > 1e-3


def test_distance_to_gt_is_the_student_heads_own_detection_loss():
    model, _ = build('pm_gfl.py')
    model.eval()
    inputs, samples = batch()
    measured = distances(model, inputs, samples)
    with torch.no_grad():
        losses = model.loss(inputs, samples)
    detection = {k: v for k, v in losses.items() if not k.startswith('loss_kd_')}
    assert set(detection) == {k[len('to_gt/'):] for k in measured if k.startswith('to_gt/') and k != 'to_gt/total'}
    for name, value in detection.items():
        assert measured[f'to_gt/{name}'] == pytest.approx(float(total({name: value}, kd=False)), rel=1e-5)
    assert measured['to_gt/total'] == pytest.approx(float(total(losses, kd=False)), rel=1e-5)


def test_a_student_whose_predictions_overflow_stops_with_one_line_not_an_assigner_traceback():
    """PGD-YOLOX's smoke row: after a step with a 1e7 loss the student's weights were finite but its eval-mode scores
    were not, and SimOTA's binary_cross_entropy raised; GFL's assigner would take NaN scores just as badly."""
    from repro.errors import Diverged
    model, _ = build('crosskd_gfl.py')
    model.eval()
    inputs, samples = batch()
    with torch.no_grad():
        model.bbox_head.gfl_cls.weight.fill_(3e38)  # finite, as float32 goes: its sums over channels are not
    assert all(bool(torch.isfinite(p).all()) for p in model.parameters())
    with pytest.raises(Diverged, match=r"^training diverged: the student's cls predictions are not finite"):
        distances(model, inputs, samples)


@pytest.mark.parametrize('names, expected', [
    (['LoadImageFromFile', 'Resize', 'LoadAnnotations', 'PackDetInputs'], True),  # mmdet's test pipelines
    (['LoadImageFromFile', 'LoadAnnotations', 'Resize', 'PackDetInputs'], False),  # boxes resized with the image
    (['LoadImageFromFile', 'LoadAnnotations', 'PackDetInputs'], False),
    (['LoadImageFromFile', 'RandomChoiceResize', 'LoadAnnotations', 'PackDetInputs'], True),
])
def test_gt_boxes_are_rescaled_only_when_loaded_after_the_resize(names, expected):
    assert gt_in_original_frame([dict(type=n) for n in names]) is expected


def test_distances_cut_a_teacher_with_more_levels_to_the_students():
    """GFL R101 (P3-P7) -> RTMDet-S (P3-P5): the distances compare the levels the two share, as the KD loss does."""
    model, _ = build('crosskd_gfl_rtmdet.py')
    model.eval()
    inputs, samples = batch()
    assert len(model.teacher.extract_feat(inputs)) > model.num_levels == len(model.extract_feat(inputs))
    measured = distances(model, inputs, samples)
    assert all(torch.isfinite(torch.tensor(v)) for v in measured.values())
    assert measured['to_teacher/cls'] > 0
