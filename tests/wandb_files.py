"""Reading an offline W&B run back from its .wandb file, for the tracking and sweep tests."""
import json
from pathlib import Path

from wandb.proto import wandb_internal_pb2

BLOCK = 32768


def wandb_records(path):
    """The protobuf Records of an offline run's .wandb file (a LevelDB-style log after a 7-byte header)."""
    data = Path(path).read_bytes()
    assert data[:4] == b':W&B'
    pos, pending = 7, b''
    while pos + 7 <= len(data):
        left = BLOCK - pos % BLOCK
        if left < 7:
            pos += left
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], 'little'), data[pos + 6]
        chunk = data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind == 1:
            yield chunk
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            yield pending + chunk
        elif kind == 0:
            pos += BLOCK - pos % BLOCK if pos % BLOCK else 0


def read_offline_run(path):
    out = {'history': [], 'run': None}
    for raw in wandb_records(path):
        rec = wandb_internal_pb2.Record()
        rec.ParseFromString(raw)
        kind = rec.WhichOneof('record_type')
        if kind == 'history':
            out['history'].append({i.key or '/'.join(i.nested_key): json.loads(i.value_json) for i in rec.history.item})
        elif kind == 'run':
            out['run'] = rec.run
    return out

