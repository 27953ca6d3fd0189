"""What a head adapter exposes of a dense head, so that a KD loss is written once for every detector.

A dense head has two towers, `cls` and `reg`, of `stacked_convs` ConvModules each, then predictor convs
(and a `Scale` per level where the head has one). Most heads share one tower across FPN levels; a head with a tower
per level (RTMDet's SepBN head: convs shared, norms per level) answers `tower(branch, level)` with that level's.
Layer index `i` names the input of tower layer `i`:

- `i = 0` is the FPN feature itself;
- `0 < i <= stacked_convs` is the output of tower layer `i - 1` *before its activation* (conv + norm only),
  which is where the official CrossKD takes the student's feature; `activate(i, x)` applies that activation.

`run_from(branch, x, i)` continues from such a feature: activation (for i > 0), layers i..end. So for any
head, `predict(run_from('cls', f_cls, i), run_from('reg', f_reg, i), level)` on the head's own layer-i
features reproduces `head.forward` exactly; the equivalence tests check this for every adapter.
"""
from __future__ import annotations

import inspect
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor

BRANCHES = ('cls', 'reg')


@dataclass
class HeadOutputs:
    """One head's forward over all FPN levels.

    Attributes:
        preds: name -> per-level maps: 'cls' (N, A*C, H, W), 'reg' (N, A*K, H, W) as the head's loss takes them,
            and 'centerness' (N, A, H, W) for heads that have it.
        feats: branch -> per-level layer-`layer` features (N, F, H, W), as defined in the module docstring.
        layer: the layer index the features were taken at.
    """
    preds: dict[str, list[Tensor]]
    feats: dict[str, list[Tensor]] = field(default_factory=dict)
    layer: int = 0


@dataclass
class Targets:
    """The student head's own target assignment, flattened over levels and anchors: L locations per image.

    Attributes:
        valid: (N, L) float, the head's label weights (1 where the location takes part in the cls loss).
        pos: (N, L) bool, locations assigned to a ground-truth box.
        num_pos: scalar tensor, the number of positives (at least 1), the detection loss's avg_factor.
        centerness_sum: scalar tensor, the positives' summed centerness targets (at least 1e-6), the normaliser of
            FCOS's box loss; None for heads without centerness targets.
    """
    valid: Tensor
    pos: Tensor
    num_pos: Tensor
    centerness_sum: Tensor | None = None


SHARED_METHODS = ('get_anchors', 'get_targets')  # the head methods shared_assignment remembers by default
PRED_ORDER = ('cls', 'reg', 'centerness', 'objectness')  # loss_by_feat's prediction arguments (no head has both)


def _containers_copied(value):
    """Nested lists and tuples copied, their tensors shared."""
    if isinstance(value, list):
        return [_containers_copied(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_containers_copied(v) for v in value)
    return value


def _call_key(value):
    """A hashable key of get_targets' arguments: tensors by shape and dtype (their values are compared apart, see
    `_same_tensors`), containers and image metas by content, anything else (GT InstanceData) by identity."""
    if isinstance(value, torch.Tensor):
        return ('tensor', tuple(value.shape), str(value.dtype))
    if isinstance(value, (list, tuple)):
        return tuple(_call_key(v) for v in value)
    if isinstance(value, dict):
        return ('dict', tuple((k, _call_key(v)) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))))
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, torch.device):
        return str(value)
    return ('object', id(value))


def _tensors(value) -> list[Tensor]:
    """The tensors in nested lists, tuples and dicts, in a fixed order."""
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if isinstance(value, dict):
        return [t for _, v in sorted(value.items(), key=lambda kv: str(kv[0])) for t in _tensors(v)]
    return []


def _same_tensors(first: list[Tensor], second: list[Tensor]) -> bool:
    """Whether two calls' tensors hold the same values (priors are remade equal; predictions may differ)."""
    return all(a is b or torch.equal(a, b) for a, b in zip(first, second))


class HeadAdapter:
    """Base class; subclasses set `predictors` and implement `predict`, `decode` and `targets`."""

    #: mmdet head class names this adapter serves, e.g. ('GFLHead',)
    heads: tuple[str, ...] = ()
    #: the head methods shared_assignment remembers within a step
    shared_methods: tuple[str, ...] = SHARED_METHODS

    def __init__(self, head):
        self.head = head
        self._sizes: dict = {}  # (device, dtype) -> the levels' base anchor widths and strides (anchor_strides)

    @property
    def num_layers(self) -> int:
        return len(self.tower('cls'))

    def width(self, layer: int) -> int:
        """Channels of the layer-`layer` feature: the FPN map's at layer 0, a tower layer's output after."""
        return self.head.in_channels if layer == 0 else self.head.feat_channels

    def tower(self, branch: str, level: int = 0):
        """The `branch` tower's ConvModules that run on FPN level `level` (the same for every level here)."""
        return {'cls': self.head.cls_convs, 'reg': self.head.reg_convs}[branch]

    def activate(self, layer: int, x: Tensor) -> Tensor:
        """The activation that follows tower layer `layer - 1` (identity for layer 0; activations hold no parameters,
        so level 0's tower stands for every level's)."""
        if layer == 0:
            return x
        return self._activate(self.tower('cls')[layer - 1], x)

    @staticmethod
    def _activate(conv, x: Tensor) -> Tensor:
        """`conv`'s activation, never in place: mmcv builds ReLU(inplace=True), which would overwrite `x`."""
        if not conv.with_activation:
            return x
        return conv.activate(x.clone() if getattr(conv.activate, 'inplace', False) else x)

    def run_from(self, branch: str, x: Tensor, layer: int, level: int = 0) -> Tensor:
        """Activation, then tower layers `layer..end` (those of FPN level `level`), on a layer-`layer` feature;
        returns the tower output."""
        x = self.activate(layer, x)
        for conv in self.tower(branch, level)[layer:]:
            x = conv(x)
        return x

    def forward(self, feats: list[Tensor], layer: int) -> HeadOutputs:
        """Run the whole head on FPN features, keeping each branch's layer-`layer` features."""
        preds: dict[str, list[Tensor]] = {}
        kept: dict[str, list[Tensor]] = {b: [] for b in BRANCHES}
        for level, x in enumerate(feats):
            tower_out = {}
            for branch in BRANCHES:
                y = x
                if layer == 0:
                    kept[branch].append(y)
                for i, conv in enumerate(self.tower(branch, level)):
                    y = conv(y, activate=False)
                    if i + 1 == layer:
                        kept[branch].append(y)
                        y = self._activate(conv, y)  # out of place, so the kept feature stays pre-activation
                    elif conv.with_activation:
                        y = conv.activate(y)
                tower_out[branch] = y
            for name, value in self.predict(tower_out['cls'], tower_out['reg'], level).items():
                preds.setdefault(name, []).append(value)
        return HeadOutputs(preds, kept, layer)

    def cross_forward(self, feats: dict[str, list[Tensor]], layer: int) -> dict[str, list[Tensor]]:
        """This head's layers `layer..end` and predictors on another head's layer-`layer` features."""
        preds: dict[str, list[Tensor]] = {}
        for level in range(len(feats['cls'])):
            cls = self.run_from('cls', feats['cls'][level], layer, level)
            reg = self.run_from('reg', feats['reg'][level], layer, level)
            for name, value in self.predict(cls, reg, level).items():
                preds.setdefault(name, []).append(value)
        return preds

    # --- per head family -------------------------------------------------------------------------------
    def predict(self, cls_feat: Tensor, reg_feat: Tensor, level: int) -> dict[str, Tensor]:
        """Predictor layers (and Scale) on the two tower outputs of one level, exactly as head.forward does."""
        raise NotImplementedError

    def decode(self, reg: Tensor, priors: Tensor) -> Tensor:
        """Boxes (M, 4) in x1y1x2y2 pixels from flattened reg predictions (M, K) and their priors (M, 4 or 2+)."""
        raise NotImplementedError

    def targets(self, outputs: HeadOutputs, data_samples) -> Targets:
        """The head's own target assignment for the student's predictions."""
        raise NotImplementedError

    @contextmanager
    def shared_assignment(self):
        """Within the block, a repeated call of one of `shared_methods` (`head.get_anchors`, `head.get_targets`;
        YOLOX's per-image `_get_targets_single`) on the same batch is answered from the first one: the detection
        loss assigns targets, and the KD terms' `targets()` reuse that assignment (and its anchors and valid flags)
        instead of making them again.

        Two calls match when their GT instances are the same objects, their other arguments are equal, and every
        tensor argument holds the same values: priors and valid flags are remade equal each time, and heads that
        assign from their predictions (RTMDet's dynamic soft-label assigner, YOLOX's SimOTA) get the same answer
        only for the same predictions; a call with other predictions is assigned afresh. Each caller gets its own
        lists of the answer's tensors, which are shared read-only."""
        head = self.head
        answers: dict = {}  # (name, key) -> [(the call's tensors, detached, as they were before the call, answer)]

        def remembered(name, original):
            def method(*args, **kwargs):
                key = (name, _call_key((args, sorted(kwargs.items()))))
                tensors = _tensors((args, kwargs))
                for seen, answer in answers.get(key, []):
                    if _same_tensors(seen, tensors):
                        return _containers_copied(answer)  # GFLHead.get_targets rewrites its anchor lists in place
                seen = [t.detach() for t in tensors]  # before the call: get_targets replaces list items in place
                answer = original(*args, **kwargs)
                answers.setdefault(key, []).append((seen, answer))
                return _containers_copied(answer)
            return method
        shared = [name for name in self.shared_methods if hasattr(head, name)]
        for name in shared:  # instance attributes over the class's methods, for this block only
            setattr(head, name, remembered(name, getattr(head, name)))
        try:
            yield
        finally:
            for name in shared:
                delattr(head, name)

    # --- shared helpers ---------------------------------------------------------------------------------
    def loss_inputs(self, preds: dict[str, list[Tensor]]) -> list:
        """The prediction arguments of the head's loss_by_feat, from this adapter's per-level `preds`: the present
        ones of 'cls', 'reg', 'centerness', 'objectness', in that order."""
        return [preds[k] for k in PRED_ORDER if k in preds]

    def anchor_strides(self, anchors: Tensor) -> Tensor:
        """(M,) stride of each anchor (M, 4) x1y1x2y2, for heads with one square anchor per location (GFL, TOOD):
        that of the level whose base anchor has the same width."""
        widths, strides = self._level_sizes(anchors.device, anchors.dtype)
        level = ((anchors[:, 2] - anchors[:, 0])[:, None] - widths).abs().argmin(dim=1)
        return strides[level]

    def _level_sizes(self, device, dtype) -> tuple[Tensor, Tensor]:
        """(base anchor width, stride) of each level, built once per device and dtype (decode runs every step)."""
        key = (device, dtype)
        if key not in self._sizes:
            generator = self.head.prior_generator
            widths = [float(b[0, 2] - b[0, 0]) for b in generator.base_anchors]
            strides = [float(s[0]) for s in generator.strides]
            self._sizes[key] = (torch.tensor(widths, device=device, dtype=dtype),
                                torch.tensor(strides, device=device, dtype=dtype))
        return self._sizes[key]

    def priors(self, maps: list[Tensor]) -> Tensor:
        """Priors of every location, flattened over levels: (L, 4) anchors, or (L, 4) points (x, y, stride, stride)."""
        generator = self.head.prior_generator
        # only point generators take `with_stride`; AnchorGenerator's priors have no such argument
        method = generator.single_level_grid_priors
        extra = {'with_stride': True} if 'with_stride' in inspect.signature(method).parameters else {}
        # level by level, as grid_priors does, so that maps of the first levels only (a teacher cut to its student's
        # levels) get theirs too
        return torch.cat([method(m.shape[-2:], level, dtype=maps[0].dtype, device=maps[0].device, **extra)
                          for level, m in enumerate(maps)])

    def scores(self, preds: dict[str, list[Tensor]]) -> Tensor:
        """The detection score of every location and class, as the head's predict_by_feat ranks them: (N, L, C)
        probabilities. σ(class logit) here (heads with centerness leave it out, as the KD terms always have); YOLOX
        multiplies in σ(objectness)."""
        return self.flatten(preds['cls'], self.head.cls_out_channels).sigmoid()

    @staticmethod
    def flatten(maps: list[Tensor], channels: int) -> Tensor:
        """Per-level (N, A*channels, H, W) maps -> (N, L, channels), in mmdet's level/row/column/anchor order."""
        return torch.cat([m.permute(0, 2, 3, 1).reshape(m.shape[0], -1, channels) for m in maps], dim=1)
