"""The frozen teacher: resolve its checkpoint (path or URL, repro.training.weights), check it against the teacher config,
load it."""
from __future__ import annotations

from torch import nn

from repro.training.checkpoint import load_checkpoint_file
from repro.errors import ReproError


def load_teacher(teacher: nn.Module, checkpoint: str, what: str = 'teacher') -> None:
    """Load weights into `teacher` (or any detector: `what` names it in errors), refusing missing keys and
    mismatched shapes before training or evaluation starts."""
    from repro.training.weights import resolve
    path = resolve(checkpoint, what)
    state = load_checkpoint_file(path)
    state = state.get('state_dict', state)
    state = {k[len('module.'):] if k.startswith('module.') else k: v for k, v in state.items()}
    expected = teacher.state_dict()
    missing = sorted(set(expected) - set(state))
    mismatched = [f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}' for k, v in expected.items()
                  if k in state and tuple(state[k].shape) != tuple(v.shape)]
    if missing or mismatched:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing keys ({', '.join(missing[:4])}{', ...' if len(missing) > 4 else ''})")
        if mismatched:
            parts.append(f"{len(mismatched)} shape mismatches, checkpoint vs config "
                         f"({'; '.join(mismatched[:3])}{'; ...' if len(mismatched) > 3 else ''})")
        raise ReproError(f"{what} checkpoint {path} does not match the {what} config: {' and '.join(parts)}; "
                         f'pass the checkpoint trained with this {what} config')
    teacher.load_state_dict({k: state[k] for k in expected})


def inherit_from_teacher(student: nn.Module, teacher: nn.Module) -> None:
    """Copy into `student` every tensor of the teacher's neck and head (anything outside `backbone.`) whose name and
    shape the student shares; the rest keeps the student's own initialisation. This is the released PGD distiller's
    `init_student=True` (distill_base.py: the teacher checkpoint minus `backbone.*`, loaded non-strictly, so tensors
    of another shape are skipped). BatchNorm's step counters are left alone. Refuses, in one line, a pair where
    nothing would be copied."""
    from mmengine.logging import print_log
    own = student.state_dict()
    shared = {k: v for k, v in teacher.state_dict().items()
              if not k.startswith('backbone.') and not k.endswith('num_batches_tracked') and k in own}
    take = {k: v for k, v in shared.items() if v.shape == own[k].shape}
    if not take:
        raise ReproError('distill.inherit copies nothing: no tensor of the teacher\'s neck or head has a name and '
                         'shape the student shares; set distill.inherit=False')
    student.load_state_dict(take, strict=False)
    print_log(f'distill.inherit: the student\'s neck and head start from {len(take)} of the teacher\'s tensors'
              f' ({len(shared) - len(take)} of another shape keep their own initialisation)', logger='current')


def _stats(preprocessor) -> tuple:
    """(mean, std) a DetDataPreprocessor normalises with; (0, 1) when it does not normalise."""
    if getattr(preprocessor, '_enable_normalize', False):
        return preprocessor.mean, preprocessor.std
    return 0.0, 1.0


def _same_normalisation(student, teacher) -> bool:
    """Whether two DetDataPreprocessors normalise images identically (mean, std and channel order)."""
    import torch
    (s_mean, s_std), (t_mean, t_std) = _stats(student), _stats(teacher)
    same = all(torch.equal(torch.as_tensor(a).cpu(), torch.as_tensor(b).cpu()) for a, b in
               ((s_mean, t_mean), (s_std, t_std)))
    return same and getattr(student, '_channel_conversion', False) == getattr(teacher, '_channel_conversion', False)


class GuestTeacher:
    """Mixin for a detector that carries a frozen teacher as a guest: outside `_modules`, so not in `state_dict()`,
    `parameters()` (the optimizer) or DDP; always in eval mode; moved along by `.to()` / `.cuda()`."""

    def attach_teacher(self, cfg: dict, checkpoint: str | None) -> nn.Module:
        from mmdet.registry import MODELS
        guest = MODELS.build(cfg)
        if checkpoint:
            load_teacher(guest, checkpoint)
        guest.eval()
        guest.requires_grad_(False)
        object.__setattr__(self, 'teacher', guest)  # bypasses nn.Module registration on purpose
        self._renormalise = not _same_normalisation(self.data_preprocessor, guest.data_preprocessor)
        return guest

    def teacher_inputs(self, inputs):
        """The batch as the teacher's own data preprocessor would have normalised it. The batch arrives normalised
        for the student; a caffe-style teacher (BGR, std 1) of an ImageNet-style student (RGB, std 58) needs it
        undone and redone. Padding (0 after the student's normalisation) becomes the student's mean colour."""
        if not self._renormalise:
            return inputs
        s, t = self.data_preprocessor, self.teacher.data_preprocessor
        (s_mean, s_std), (t_mean, t_std) = _stats(s), _stats(t)
        raw = inputs * s_std + s_mean
        if s._channel_conversion != t._channel_conversion:
            raw = raw.flip(1)  # RGB <-> BGR
        return (raw - t_mean) / t_std

    def _apply(self, fn, *args, **kwargs):
        self.teacher._apply(fn, *args, **kwargs)
        return super()._apply(fn, *args, **kwargs)

    def train(self, mode: bool = True):
        super().train(mode)
        self.teacher.eval()
        return self
