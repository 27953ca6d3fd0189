"""Rank Mimicking, RM (Li et al., "KD for Object Detection via Rank Mimicking and PFI", AAAI 2022)."""
from __future__ import annotations

import torch
from torch import Tensor, nn

from repro.distill.adapters.base import HeadAdapter
from repro.errors import ReproError

SCORES = ('logit', 'prob')


def segment_log_softmax(z: Tensor, segment: Tensor, num_segments: int) -> Tensor:
    """log softmax of z within each segment: z (K,), segment (K,) int in [0, num_segments) -> (K,)."""
    top = z.new_full((num_segments,), float('-inf')).scatter_reduce(0, segment, z.detach(), 'amax')
    shifted = z - top[segment]
    total = z.new_zeros(num_segments).index_add(0, segment, shifted.exp())
    return shifted - total.log()[segment]


class RankMimickingLoss(nn.Module):
    """The student's rank distribution over each GT's candidate boxes mimics the teacher's (KL).

    For GT o with candidate anchors C_o (its positives, from the `candidates` guide) and class c_o, the rank
    distribution is p_i = softmax over i in C_o of s_i / T, with s_i the score of class c_o at candidate i. The loss
    is KL(p^T ‖ p^S) summed over C_o and averaged over the batch's GTs that have a candidate. All GTs of a batch
    are handled at once (segment softmax over the (GT, candidate) pairs), without a loop over objects.

    Args:
        temperature: T (1: the plain softmax of the paper's rank distribution).
        score: 'logit' ranks the raw classification outputs; 'prob' their sigmoid probabilities.
    """

    def __init__(self, temperature: float = 1.0, score: str = 'logit'):
        super().__init__()
        if not temperature > 0:
            raise ReproError(f'RankMimickingLoss temperature is {temperature}: use a positive number')
        if score not in SCORES:
            raise ReproError(f"RankMimickingLoss score is {score!r}: choose logit or prob")
        self.temperature, self.score = temperature, score

    def forward(self, student: list[Tensor], teacher: list[Tensor], candidates: list[Tensor],
                labels: list[Tensor]) -> Tensor:
        """student, teacher: per level (N, A·C, H, W) cls outputs; candidates: per image (G, L·A) bool;
        labels: per image (G,) GT classes. Returns a scalar."""
        s_flat, t_flat = self._flatten(student, candidates), self._flatten(teacher, candidates)
        image, anchor, label, segment = [], [], [], []
        offset = 0
        for n, (found, gt_labels) in enumerate(zip(candidates, labels)):
            g, a = found.nonzero(as_tuple=True)
            image.append(torch.full_like(a, n))
            anchor.append(a)
            label.append(gt_labels.to(a.device)[g])
            segment.append(g + offset)
            offset += len(found)
        image, anchor, label, segment = (torch.cat(x) for x in (image, anchor, label, segment))
        s = s_flat[image, anchor, label]
        t = t_flat[image, anchor, label].detach()
        if self.score == 'prob':
            s, t = s.sigmoid(), t.sigmoid()
        log_ps = segment_log_softmax(s.float() / self.temperature, segment, offset)
        log_pt = segment_log_softmax(t.float() / self.temperature, segment, offset)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum()
        with_candidates = torch.zeros(offset, device=kl.device).index_fill(0, segment, 1.0).sum()
        return kl / with_candidates.clamp(min=1.0)

    @staticmethod
    def _flatten(maps: list[Tensor], candidates: list[Tensor]) -> Tensor:
        """Per level (N, A·C, H, W) -> (N, L·A, C), with A from the candidates' width."""
        locations = sum(m.shape[-2] * m.shape[-1] for m in maps)
        width = candidates[0].shape[1]
        anchors = width // locations
        if width % locations or maps[0].shape[1] % max(anchors, 1):
            raise ReproError(f'RankMimickingLoss: candidates have {width} columns, which is not anchors x the '
                             f'{locations} locations of the {maps[0].shape[1]}-channel cls maps')
        return HeadAdapter.flatten(maps, maps[0].shape[1] // anchors)
