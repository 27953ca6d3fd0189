"""mmcv's compiled ops that the configs use, checked on a device against the CPU (or, for ops with no CPU kernel,
against mmdet's pure-PyTorch version): `python -m benchmarks.gpu_ops [--device cuda] [--json PATH]`.

nms and batched_nms (every detector's test step), RoIAlign (Faster R-CNN, HEAD's teacher), DeformConv2d (DDOD's
first tower layer) and sigmoid_focal_loss (mmdet's FocalLoss on CUDA: RetinaNet, FCOS, AutoAssign). On a machine
without CUDA the same ops run on the CPU alone, which shows that mmcv's extension loads. Exits 1 if one fails.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _cases(device: str):
    """(name, the op on `device`, its reference on the CPU)."""
    import torch
    from mmcv.ops import DeformConv2d, RoIAlign, batched_nms, nms, sigmoid_focal_loss
    from mmdet.models.losses.focal_loss import py_sigmoid_focal_loss
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(200, 2, generator=g) * 500
    boxes = torch.cat([xy, xy + 20 + torch.rand(200, 2, generator=g) * 100], 1)
    scores, labels = torch.rand(200, generator=g), torch.randint(0, 5, (200,), generator=g)
    feats = torch.randn(2, 16, 50, 60, generator=g)
    rois = torch.cat([torch.randint(0, 2, (30, 1), generator=g).float(), boxes[:30] / 2], 1)
    deform, align = DeformConv2d(16, 8, 3, padding=1), RoIAlign((7, 7), 0.5, 2)
    offsets = torch.randn(2, 18, 50, 60, generator=g) * 0.5
    logits, targets = torch.randn(300, 80, generator=g), torch.randint(0, 81, (300,), generator=g)
    one_hot = torch.nn.functional.one_hot(targets, 81)[:, :80].float()

    def both(op):
        return lambda: op(device), lambda: op('cpu')
    yield 'nms', *both(lambda d: nms(boxes.to(d), scores.to(d), 0.5)[1].cpu().float())
    yield 'batched_nms', *both(lambda d: batched_nms(boxes.to(d), scores.to(d), labels.to(d),
                                                     dict(type='nms', iou_threshold=0.5))[1].cpu().float())
    yield 'roi_align', *both(lambda d: align.to(d)(feats.to(d), rois.to(d)).cpu())
    yield 'deform_conv2d', *both(lambda d: deform.to(d)(feats.to(d), offsets.to(d)).detach().cpu())
    # elementwise, the form mmdet's FocalLoss asks for ('mean' differs by design: mmcv divides by rows, mmdet by
    # elements; measured on an H200, a factor of 80 here)
    reference = lambda: py_sigmoid_focal_loss(logits, one_hot, None, 2.0, 0.25, 'none')  # noqa: E731
    if device == 'cpu':  # mmcv has no CPU kernel; mmdet's FocalLoss uses its PyTorch version there
        yield 'sigmoid_focal_loss (mmdet PyTorch)', reference, reference
    else:
        yield 'sigmoid_focal_loss', (lambda: sigmoid_focal_loss(logits.to(device), targets.to(device), 2.0, 0.25,
                                                                None, 'none').cpu()), reference


def check(device: str) -> list[dict]:
    results = []
    for name, run, reference in _cases(device):
        row = {'op': name, 'device': device}
        try:
            out, ref = run(), reference()
            diff = float((out - ref).abs().max()) if out.shape == ref.shape else float('inf')
            row.update(ok=diff <= 1e-3 * max(1.0, float(ref.abs().max())), max_abs_diff=diff, shape=list(out.shape))
        except Exception as err:  # the op's kernel is missing or broken on this device: say which and why
            row.update(ok=False, error=f'{type(err).__name__}: {err}'.splitlines()[0][:300])
        results.append(row)
    return results


def main(argv=None) -> None:
    import torch
    p = argparse.ArgumentParser(prog='python -m benchmarks.gpu_ops', description=__doc__.split('\n')[0])
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--json', type=Path)
    args = p.parse_args(argv)
    results = check(args.device)
    for r in results:
        detail = r.get('error') or f"max |diff| {r['max_abs_diff']:.2e}"
        print(f"{r['op']:<36} {args.device:<5} {'ok' if r['ok'] else 'FAILED'}  {detail}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({'device': args.device, 'torch': torch.__version__, 'ops': results}, indent=1))
    sys.exit(0 if all(r['ok'] for r in results) else 1)


if __name__ == '__main__':
    main()
