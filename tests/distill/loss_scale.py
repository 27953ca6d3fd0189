"""The ratio of each KD term of each method to the method's detection loss at initialisation, on a fixed tiny batch.

FIDELITY.md records one ratio per method config and KD term; tests/distill/test_loss_scale.py checks that each stays within 2x of
its record, so that a silent change of a normaliser (4x, 256x) fails CI. After a deliberate change, rewrite the
table with `.venv/bin/python tests/distill/loss_scale.py --write` and say why in the commit.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import torch

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]  # run as a script
from test_detector import batch, build  # noqa: E402

LEDGER = Path(__file__).resolve().parents[2] / 'FIDELITY.md'
BEGIN, END = '<!-- loss-scale:begin -->', '<!-- loss-scale:end -->'
ROW = re.compile(r'^\| `(?P<method>[\w.]+)` \| `(?P<term>\w+)` \| (?P<det>[\d.e+-]+) \| (?P<ratio>[\d.e+-]+) \|$')


def is_kd(key: str) -> bool:
    return key.startswith('loss_kd_') or key == 'loss_ld'  # repro's terms; mmdet's LDHead


def loss_ratios(method: str) -> tuple[float, dict[str, float]]:
    """The detection loss and each KD term's ratio to it, for a randomly initialised distiller (seed 0) on batch()
    (seed 1), at full KD weight: past every warm-up (HEAD's mimic weight and FRS's terms ramp with mmengine's
    global iteration, which is set here, as a training run earlier in the same process leaves it behind)."""
    from mmengine.logging import MessageHub
    hub = MessageHub.get_current_instance()
    model, _ = build(method)
    model.train()
    head = getattr(model, 'bbox_head', None) or model.student.bbox_head
    torch.manual_seed(1)
    inputs, samples = batch(num_classes=head.num_classes)
    hub.update_info('iter', 10**6)
    try:
        with torch.no_grad():
            losses = model.loss(inputs, samples)
    finally:
        hub.update_info('iter', 0)
    values = {k: float(sum(v) if isinstance(v, (list, tuple)) else v) for k, v in losses.items() if 'loss' in k}
    detection = sum(v for k, v in values.items() if not is_kd(k))
    return detection, {k: v / detection for k, v in values.items() if is_kd(k)}


def recorded() -> dict[str, dict[str, float]]:
    """method config -> KD term -> its ratio to the detection loss, as FIDELITY.md records them."""
    text = LEDGER.read_text()
    table = text[text.index(BEGIN) + len(BEGIN):text.index(END)]
    rows: dict[str, dict[str, float]] = {}
    for line in table.strip().splitlines()[2:]:
        match = ROW.match(line.strip())
        assert match, f'bad loss-scale row in FIDELITY.md: {line!r}'
        rows.setdefault(match['method'], {})[match['term']] = float(match['ratio'])
    return rows


def write(methods: list[str]) -> None:
    lines = ['| method config | KD term | detection loss | KD term / detection loss |', '|---|---|---|---|']
    for method in methods:
        detection, ratios = loss_ratios(method)
        for term, ratio in sorted(ratios.items()):
            lines.append(f'| `{method}` | `{term}` | {detection:.4g} | {ratio:.4g} |')
            print(lines[-1], flush=True)
    text = LEDGER.read_text()
    head, tail = text[:text.index(BEGIN) + len(BEGIN)], text[text.index(END):]
    LEDGER.write_text(head + '\n' + '\n'.join(lines) + '\n' + tail)


if __name__ == '__main__':
    from test_loss_scale import METHODS
    if sys.argv[1:] != ['--write']:
        sys.exit('usage: python tests/distill/loss_scale.py --write')
    write(METHODS)
