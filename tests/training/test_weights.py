"""Checkpoints by reference (repro/training/weights.py): the weights folder first, then a download; one line when neither
works; mmengine's Pretrained init goes through the same resolver, without torchvision. No network: the download is
a local copy, and conftest sets REPRO_OFFLINE."""
import subprocess
from pathlib import Path

import pytest
import torch

from conftest import PYTHON, REPO
import repro.weights as weights_cli
from repro.training import weights
from repro.errors import ReproError
from repro.plan.compile import compile_config
from repro.profiles import CONFIG_DIR

R18 = 'https://download.pytorch.org/models/resnet18-f37072fd.pth'
GFL_R101 = ('https://download.openmmlab.com/mmdetection/v2.0/gfl/gfl_r101_fpn_mstrain_2x_coco/'
            'gfl_r101_fpn_mstrain_2x_coco_20200629_200126-dd12f847.pth')


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv('REPRO_WEIGHTS', str(tmp_path / 'weights'))
    return tmp_path / 'weights'


@pytest.fixture
def online(monkeypatch):
    """Downloads allowed, served from a dict {url: local file}; returns (that dict, the calls made)."""
    monkeypatch.delenv('REPRO_OFFLINE', raising=False)
    served, calls = {}, []

    def fake_download(url, dst, hash_prefix=None, progress=True):
        calls.append((url, hash_prefix))
        if url not in served:
            Path(dst).write_bytes(b'partial')
            raise OSError('connection reset')
        Path(dst).write_bytes(served[url].read_bytes())
    monkeypatch.setattr(torch.hub, 'download_url_to_file', fake_download)
    return served, calls


@pytest.mark.parametrize('ref, url', [
    ('torchvision://resnet18', R18), ('modelzoo://resnet18', R18),
    ('open-mmlab://mmdet/mobilenet_v2',
     'https://download.openmmlab.com/mmdetection/v2.0/third_party/mobilenet_v2_batch256_imagenet-ff34753d.pth'),
    ('open-mmlab://resnet50_caffe',  # deprecated: mmengine's deprecated.json renames it detectron/resnet50_caffe
     'https://download.openmmlab.com/pretrain/third_party/resnet50_caffe-788b5fa3.pth'),
    (GFL_R101, GFL_R101), ('/data/teacher.pth', None)])
def test_references_resolve_to_the_urls_mmengine_names(ref, url):
    assert weights.source_url(ref) == url


@pytest.mark.parametrize('ref, message', [
    ('s4://bucket/x.pth', 'checkpoint s4://bucket/x.pth: unknown scheme s4://; give a path, an http(s) URL or one '
                          'of torchvision://, modelzoo://, open-mmlab://, openmmlab://'),
    ('torchvision://resnet7', "checkpoint torchvision://resnet7: torchvision:// has no model 'resnet7' (mmengine's "
                              'hub/torchvision_0.12.json lists the names)')])
def test_an_unknown_reference_is_one_line(ref, message):
    with pytest.raises(ReproError) as err:
        weights.resolve(ref)
    assert str(err.value) == message


def test_the_default_folder_is_torchs_hub_cache(monkeypatch, tmp_path):
    monkeypatch.delenv('REPRO_WEIGHTS')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    assert weights.local_file('torchvision://resnet18') == tmp_path / 'hub' / 'checkpoints' / 'resnet18-f37072fd.pth'


def test_a_file_in_the_folder_is_used_as_is(folder, online):
    folder.mkdir()
    (folder / 'resnet18-f37072fd.pth').write_bytes(b'x')
    assert weights.resolve('torchvision://resnet18') == folder / 'resnet18-f37072fd.pth'
    assert online[1] == []  # no download tried


def test_a_missing_file_is_downloaded_once_with_its_hash_checked(folder, online, tmp_path):
    served, calls = online
    served[GFL_R101] = tmp_path / 'zoo.pth'
    served[GFL_R101].write_bytes(b'weights')
    path = weights.resolve(GFL_R101, 'teacher')
    assert path == folder / Path(GFL_R101).name and path.read_bytes() == b'weights'
    assert weights.resolve(GFL_R101) == path and calls == [(GFL_R101, 'dd12f847')]  # the name's sha256 prefix


def test_a_failed_download_leaves_nothing_and_says_how_to_provide_the_file(folder, online):
    with pytest.raises(ReproError) as err:
        weights.resolve('torchvision://resnet18', 'pretrained')
    assert str(err.value) == (
        f'pretrained weights resnet18-f37072fd.pth are not in {folder} and cannot be downloaded from {R18} '
        f'(connection reset); download the file into {folder} (python -m repro.weights fetch TABLE, on a machine '
        'with internet), or set $REPRO_WEIGHTS to a folder holding it')
    assert not list(folder.iterdir())


def test_offline_nothing_is_downloaded(folder, online, monkeypatch):
    monkeypatch.setenv('REPRO_OFFLINE', '1')
    with pytest.raises(ReproError, match=f'teacher weights {Path(GFL_R101).name} are not in {folder} and '
                                         f'\\$REPRO_OFFLINE forbids downloading them from {GFL_R101}; download'):
        weights.resolve(GFL_R101, 'teacher')
    assert online[1] == []


def _resnet18():
    from mmdet.models.backbones import ResNet
    return ResNet(depth=18, init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet18'))


def test_mmengines_pretrained_init_reads_the_folder_without_torchvision(folder):
    weights.register()
    source = _resnet18()
    folder.mkdir()
    torch.save(source.state_dict(), folder / 'resnet18-f37072fd.pth')  # a bare state dict, as torchvision's
    model = _resnet18()
    model.init_weights()
    assert all(torch.equal(a, b) for a, b in zip(source.state_dict().values(), model.state_dict().values()))
    with pytest.raises(ReproError, match=r'^weights|^pretrained weights resnet18-f37072fd\.pth are not in'):
        (folder / 'resnet18-f37072fd.pth').unlink()
        _resnet18().init_weights()  # never a silent random initialisation


def test_needed_lists_backbones_teachers_and_evaluated_checkpoints(tmp_path):
    coco = dict(profile='coco', data_root=str(tmp_path), check_data=False)
    assert weights.needed(compile_config(CONFIG_DIR / 'detectors/gfl_r50.py', **coco)) == [
        ('pretrained', 'torchvision://resnet50')]
    assert weights.needed(compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', **coco)) == [
        ('pretrained', 'torchvision://resnet50'), ('teacher', GFL_R101)]  # the guest teacher's backbone: never
    ld = weights.needed(compile_config(CONFIG_DIR / 'methods/ld_gfl.py', **coco))
    assert ld == [('pretrained', 'torchvision://resnet50'), ('teacher', GFL_R101)]
    zoo = compile_config(CONFIG_DIR / 'teachers/gfl_r101.py', evaluate_from=GFL_R101, **coco)
    assert ('evaluated', GFL_R101) in weights.needed(zoo)
    assert weights.needed(compile_config(CONFIG_DIR / 'methods/crosskd_gfl.py', 'tiny')) == []


def test_list_names_what_a_table_needs_and_what_is_missing(folder, capsys):
    folder.mkdir()
    (folder / 'resnet18-f37072fd.pth').write_bytes(b'x')
    weights_cli.main(['list', 'crosskd:table1'])
    out = capsys.readouterr().out
    assert f'crosskd:table1: 3 checkpoints for the coco profile; weights folder {folder}' in out
    assert '  ok       resnet18-f37072fd.pth  pretrained: crosskd_gfl, gfl_r18, pm_gfl' in out
    assert '  MISSING  resnet50-0676ba61.pth  pretrained: gfl_r50' in out
    assert '2 missing: python -m repro.weights fetch crosskd:table1' in out


def test_fetch_offline_is_one_line(folder):
    done = subprocess.run([PYTHON, '-m', 'repro.weights', 'fetch', 'table1'], cwd=REPO, capture_output=True,
                          text=True)
    assert done.returncode == 2 and 'Traceback' not in done.stderr
    assert done.stderr.startswith('error: ') and done.stderr.count('\n') == 1 and 'REPRO_OFFLINE' in done.stderr
