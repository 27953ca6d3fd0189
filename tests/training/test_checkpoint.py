import io
import pickle

import pytest
import torch

from repro.training.checkpoint import allow_mmengine_checkpoints, load_checkpoint_file
from repro.errors import ReproError


class _Reach:
    """A pickle that asks getattr for something other than a HistoryBuffer statistic."""

    def __init__(self, obj, name):
        self.obj, self.name = obj, name

    def __reduce__(self):
        return getattr, (self.obj, self.name)


@pytest.mark.parametrize('target', ['HistoryBuffer.__init__', 'OrderedDict.fromkeys'])
def test_getattr_is_refused_beyond_history_buffer_statistics(target):
    from collections import OrderedDict

    from mmengine.logging.history_buffer import HistoryBuffer
    allow_mmengine_checkpoints()
    owner, name = target.split('.')
    buf = io.BytesIO()
    torch.save({'x': _Reach({'HistoryBuffer': HistoryBuffer, 'OrderedDict': OrderedDict}[owner], name)}, buf)
    buf.seek(0)
    with pytest.raises(pickle.UnpicklingError):
        torch.load(buf, weights_only=True)


def test_arbitrary_classes_stay_forbidden(tmp_path):
    allow_mmengine_checkpoints()
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': {}, 'meta': {'obj': ReproError('x')}}, path)
    with pytest.raises(ReproError, match='cannot be read'):
        load_checkpoint_file(path)


def test_zoo_style_checkpoint_loads(tmp_path):
    """mmdet model-zoo files hold a state_dict and a meta of plain strings and tuples."""
    path = tmp_path / 'zoo.pth'
    torch.save({'state_dict': {'backbone.conv1.weight': torch.zeros(2, 3, 1, 1)},
                'meta': {'CLASSES': ('person', 'car'), 'mmcv_version': '1.3.8', 'config': 'model = dict()'}}, path)
    ckpt = load_checkpoint_file(path)
    assert ckpt['meta']['CLASSES'] == ('person', 'car')


def test_missing_truncated_and_corrupt_files(tmp_path):
    with pytest.raises(ReproError, match='checkpoint not found'):
        load_checkpoint_file(tmp_path / 'nope.pth')
    good = tmp_path / 'good.pth'
    torch.save({'state_dict': {'w': torch.randn(64, 64)}}, good)
    truncated = tmp_path / 'truncated.pth'
    truncated.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(ReproError, match='truncated, corrupt'):
        load_checkpoint_file(truncated)
    garbage = tmp_path / 'garbage.pth'
    garbage.write_bytes(b'\x00not a checkpoint' * 10)
    with pytest.raises(ReproError, match='truncated, corrupt'):
        load_checkpoint_file(garbage)
    tensor_only = tmp_path / 'tensor.pth'
    torch.save(torch.zeros(1), tensor_only)
    with pytest.raises(ReproError, match='holds a Tensor'):
        load_checkpoint_file(tensor_only)
