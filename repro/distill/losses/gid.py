"""GID: Dai et al., "General Instance Distillation for Object Detection", CVPR 2021.

Three losses on the general instances (GIs) that the `general_instances` guide selects: feature (the GIs' RoIAligned
FPN features), relation (their pairwise distances) and response (the head's outputs on the priors assigned to a GI).
Hyper-parameter defaults follow the authors' released reproduction (detectron2, RetinaNet R101 -> R50).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from mmcv.ops import roi_align
from torch import Tensor, nn

from repro.errors import ReproError

CANONICAL_SIZE, CANONICAL_LEVEL = 224, 4  # FPN's RoI-to-level rule, as detectron2's ROIPooler applies it


def roi_levels(boxes: Tensor, strides: list[float]) -> Tensor:
    """(R,) FPN level index of each box: floor(4 + log2(√(wh) / 224)), clamped to the levels there are, counted
    from the finest (stride 8 is level 3 of that rule). boxes (R, 4) x1y1x2y2 pixels."""
    finest = round(math.log2(strides[0]))
    size = ((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])).clamp(min=0).sqrt()
    level = torch.floor(CANONICAL_LEVEL + torch.log2(size / CANONICAL_SIZE + 1e-8))
    return (level.clamp(finest, finest + len(strides) - 1) - finest).long()


def roi_features(maps: list[Tensor], boxes: list[Tensor], strides: list[float], output_size: int = 10,
                 sampling_ratio: int = 2) -> Tensor:
    """(R, C, S, S): each image's boxes RoIAligned (aligned=True, detectron2's ROIAlignV2) on its FPN level.

    Args:
        maps: per level (N, C, H, W).
        boxes: per image (K_i, 4) x1y1x2y2 pixels; R = Σ K_i, in image order.
        strides: stride of each level.
    """
    rois = torch.cat([torch.cat([b.new_full((len(b), 1), float(i)), b], dim=1) for i, b in enumerate(boxes)])
    out = maps[0].new_zeros(len(rois), maps[0].shape[1], output_size, output_size)
    levels = roi_levels(rois[:, 1:], strides)
    for level, (feat, stride) in enumerate(zip(maps, strides)):
        index = torch.nonzero(levels == level).squeeze(1)
        if len(index):
            pooled = roi_align(feat, rois[index], output_size, 1.0 / stride, sampling_ratio, 'avg', True)
            out = out.index_copy(0, index, pooled)
    return out


def relation_loss(teacher: Tensor, student: Tensor, beta: float = 1.0) -> Tensor:
    """GID's relation loss on one image's K instances: smooth-L1 (β) between the teacher's and the student's
    pairwise Euclidean distances, each divided by its mean over the K² − K pairs, averaged over those pairs;
    0 for K < 3. teacher (K, D_t), student (K, D_s)."""
    k = len(teacher)
    if k < 3:
        return student.sum() * 0
    off = ~torch.eye(k, dtype=torch.bool, device=student.device)
    distances = []
    for x in (teacher, student):
        d = ((x[:, None] - x[None]) ** 2).sum(-1)[off].clamp(min=1e-12).sqrt()  # (K² − K,), no 0 under the root
        distances.append(d / d.mean().clamp(min=1e-12))
    return F.smooth_l1_loss(distances[1], distances[0], beta=beta, reduction='mean')


def _check_levels(loss: str, student: list[Tensor], strides: list[float]) -> None:
    if len(student) != len(strides):
        raise ReproError(f'{loss} got {len(student)} maps but the guide gave {len(strides)} strides: use it on '
                         "feature='neck' with guide=dict(type='general_instances')")


class GIDFeatureLoss(nn.Module):
    """GID's feature loss: Σ (t_i − f(s_i))² over channels, averaged over the GIs and their S×S RoI cells (the
    authors' normalisation), t_i / s_i the GIs' RoIAligned FPN features. f is a 3x3 adaptation conv on the student's
    RoI features (the paper's f_adapt; the released code's adapter is never applied).

    Args:
        student_channels, teacher_channels: FPN widths (set by the detector).
        output_size: S, the RoIAlign resolution (10).
        sampling_ratio: RoIAlign samples per bin side (2).
    """

    def __init__(self, student_channels: int = 256, teacher_channels: int = 256, output_size: int = 10,
                 sampling_ratio: int = 2):
        super().__init__()
        self.adapt = nn.Conv2d(student_channels, teacher_channels, kernel_size=3, padding=1)
        self.output_size, self.sampling_ratio = output_size, sampling_ratio

    def forward(self, student: list[Tensor], teacher: list[Tensor], boxes: list[Tensor], strides: list[float],
                response_mask: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W); boxes, strides: from the guide (response_mask unused)."""
        _check_levels('GIDFeatureLoss', student, strides)
        count = sum(len(b) for b in boxes)
        if count == 0:
            return student[0].sum() * 0
        t = roi_features([m.detach() for m in teacher], boxes, strides, self.output_size, self.sampling_ratio)
        s = self.adapt(roi_features(student, boxes, strides, self.output_size, self.sampling_ratio))
        return ((t - s) ** 2).sum() / (count * self.output_size ** 2)


class GIDRelationLoss(nn.Module):
    """GID's relation loss (see :func:`relation_loss`) on the GIs' RoIAligned FPN features, per image, averaged over
    the images with at least 3 GIs. The released code pools the GIs of the whole batch into one distance matrix;
    the paper relates the instances of an image, which is what this does. The student's own features are used
    (distance matrices need no adaptation).

    Args:
        output_size, sampling_ratio: RoIAlign resolution and samples per bin side (10, 2).
        beta: the smooth-L1 β (1.0).
    """

    def __init__(self, output_size: int = 10, sampling_ratio: int = 2, beta: float = 1.0):
        super().__init__()
        self.output_size, self.sampling_ratio, self.beta = output_size, sampling_ratio, beta

    def forward(self, student: list[Tensor], teacher: list[Tensor], boxes: list[Tensor], strides: list[float],
                response_mask: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, C, H, W); boxes, strides: from the guide (response_mask unused)."""
        _check_levels('GIDRelationLoss', student, strides)
        counts = [len(b) for b in boxes]
        if sum(counts) == 0:
            return student[0].sum() * 0
        t = roi_features([m.detach() for m in teacher], boxes, strides, self.output_size, self.sampling_ratio)
        s = roi_features(student, boxes, strides, self.output_size, self.sampling_ratio)
        losses = [relation_loss(ti.flatten(1), si.flatten(1), self.beta)
                  for ti, si, c in zip(t.split(counts), s.split(counts), counts) if c >= 3]
        return torch.stack(losses).mean() if losses else student[0].sum() * 0


class GIDResponseLoss(nn.Module):
    """GID's response loss of a one-stage detector on the priors the guide assigns to a GI, summed over them and
    divided by their number (the released RetinaNet code):

    'cls' (feature='pred_cls'): BCE between the student's class logits and the teacher's sigmoid, summed over
    classes. 'reg' (feature='pred_reg'): L1 between the raw regression outputs, summed over a prior's channels and
    scaled by 4 / channels, so a head with 4 outputs (RetinaNet's deltas) gets exactly the released loss and GFL's
    4·(reg_max+1) distribution logits count as 4 coordinates, each the mean over its bins (our choice: GID defines
    the loss on box deltas only). Raw outputs must be in the same units for both heads (not FCOS with
    norm_on_bbox, whose teacher outputs pixels in eval mode).

    Args:
        kind: 'cls' or 'reg'.
    """

    def __init__(self, kind: str = 'cls'):
        super().__init__()
        if kind not in ('cls', 'reg'):
            raise ReproError(f"GIDResponseLoss kind is {kind!r}: choose cls or reg")
        self.kind = kind

    def forward(self, student: list[Tensor], teacher: list[Tensor], boxes: list[Tensor], strides: list[float],
                response_mask: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, A·K, H, W) prediction maps; response_mask: per level (N, A, H, W)."""
        total = student[0].new_zeros(())
        for s, t, mask in zip(student, teacher, response_mask):
            n, a, h, w = mask.shape
            s, t = s.reshape(n, a, -1, h, w), t.detach().reshape(n, a, -1, h, w)
            if self.kind == 'cls':
                per_element = F.binary_cross_entropy_with_logits(s, t.sigmoid(), reduction='none')
            else:
                per_element = (s - t).abs() * (4 / s.shape[2])
            total = total + (per_element * mask[:, :, None]).sum()
        return total / sum(m.sum() for m in response_mask).clamp(min=1.0)
