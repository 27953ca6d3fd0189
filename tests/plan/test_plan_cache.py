"""The on-disk caches of the dry-run path: plans (repro.plan.cache) and parsed table specs (repro.tables.spec)."""
import dataclasses
import json
import os
import subprocess

import pytest

from conftest import PYTHON, REPO
import repro.plan.cache as plan_cache
from repro.plan.dag import plan
from repro.plan.cache import cached_plan, inputs_hash
from repro.profiles import cache_root
from repro.tables.spec import load_spec, resolve

COMPARED = ('key', 'config', 'overrides', 'seed', 'role', 'work_dir', 'rows', 'needs', 'evaluate_from',
            'gpu_hours')


def outline(runs):
    return [{name: getattr(run, name) for name in COMPARED} for run in runs]


@pytest.mark.parametrize('table, profile', [('crosskd:table4', 'tiny'), ('crosskd:table8', 'coco')])
def test_a_cached_plan_is_the_plan(table, profile, monkeypatch, tmp_path):
    monkeypatch.setenv('REPRO_COCO_ROOT', str(tmp_path / 'no-coco'))
    spec = resolve(table)[0]
    fresh = plan(spec, profile, check_data=False)
    first = cached_plan(spec, profile)  # plans, and writes the cache
    again = cached_plan(spec, profile)  # reads it
    assert all(run.compiled is not None for run in first) and all(run.compiled is None for run in again)
    assert outline(first) == outline(fresh) == outline(again)
    if profile == 'tiny':
        assert any(run.needs for run in again)  # the dependencies survive the round trip
    else:
        assert any(run.evaluate_from for run in again) and all(run.gpu_hours for run in again)


def test_the_plan_is_made_again_when_an_input_changes(monkeypatch, tmp_path):
    spec = resolve('crosskd:table4')[0]
    base = inputs_hash(spec, 'tiny', 1, None)
    assert inputs_hash(spec, 'tiny', 1, None) == base
    assert inputs_hash(spec, 'coco', 1, None) != base
    assert inputs_hash(spec, 'tiny', 2, None) != base
    assert inputs_hash(spec, 'tiny', 1, '/data/coco') != base
    one_row = dataclasses.replace(spec, rows=spec.rows[:1])  # a sweep's narrowed table
    assert inputs_hash(one_row, 'tiny', 1, None) != base
    changed = dataclasses.replace(spec.rows[0], run=dataclasses.replace(
        spec.rows[0].run, overrides=(*spec.rows[0].run.overrides, 'train_cfg.max_epochs=3')))
    assert inputs_hash(dataclasses.replace(spec, rows=(changed, *spec.rows[1:])), 'tiny', 1, None) != base
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path))  # where the runs' work dirs are
    assert inputs_hash(spec, 'tiny', 1, None) != base
    configs = tmp_path / 'configs'
    (configs / 'detectors').mkdir(parents=True)
    (configs / 'detectors' / 'a.py').write_text("_base_ = 'mmdet::gfl/gfl_r50_fpn_1x_coco.py'\n")
    monkeypatch.setattr(plan_cache, 'CONFIG_DIR', configs)
    before = inputs_hash(spec, 'tiny', 1, None)
    (configs / 'detectors' / 'a.py').write_text("_base_ = 'mmdet::gfl/gfl_r50_fpn_1x_coco.py'\nx = 1\n")
    assert inputs_hash(spec, 'tiny', 1, None) != before  # a config's contents
    (configs / 'detectors' / 'b.py').write_text('')
    assert inputs_hash(spec, 'tiny', 1, None) != before  # and a new config file


def test_an_unreadable_cache_file_is_planned_again():
    spec = resolve('crosskd:table4')[0]
    expected = outline(cached_plan(spec, 'tiny'))
    path = cache_root() / 'plans' / f"{inputs_hash(spec, 'tiny', 1, None)}.json"
    for broken in ('{"not": "a plan"}', '[{"key": 1}]', 'not json'):
        path.write_text(broken)
        runs = cached_plan(spec, 'tiny')
        assert outline(runs) == expected and all(run.compiled is not None for run in runs)
    assert len(json.loads(path.read_text())) == len(expected)  # written again


def test_a_warm_dry_run_imports_neither_torch_nor_mmengine_nor_yaml():
    script = ("import sys; from repro.run import main; main(['pgd:table1', '--dry-run', '--profile', 'tiny']); "
              "heavy = {'torch', 'mmengine', 'mmdet', 'yaml'} & set(sys.modules); print('heavy:', sorted(heavy))")
    runs = [subprocess.run([PYTHON, '-c', script], cwd=REPO, capture_output=True, text=True, timeout=300)
            for _ in range(2)]
    assert all(proc.returncode == 0 for proc in runs), runs[-1].stderr
    assert runs[0].stdout.splitlines()[:-1] == runs[1].stdout.splitlines()[:-1]  # the same plan, cold and warm
    assert runs[0].stdout.splitlines()[-1] != 'heavy: []'  # the cold one compiled the configs
    assert runs[1].stdout.splitlines()[-1] == 'heavy: []'


def test_a_parsed_spec_is_cached_as_json_and_read_back_equal(tmp_path):
    text = (REPO / 'repro/tables/specs/crosskd_table4.yaml').read_text()
    path = tmp_path / 'crosskd_table4.yaml'
    path.write_text(text)
    before = set((cache_root() / 'specs').glob('*.json'))
    first = load_spec(path)
    written = set((cache_root() / 'specs').glob('*.json')) - before
    assert len(written) <= 1  # none where another test parsed the same bytes already
    assert load_spec(path) == first
    for cached in (cache_root() / 'specs').glob('*.json'):
        cached.write_text('{broken')  # an unreadable cache entry: parsed again
    assert load_spec(path) == first


def test_a_spec_with_a_duplicate_key_is_refused_every_time(tmp_path):
    path = tmp_path / 'crosskd_table4.yaml'
    path.write_text((REPO / 'repro/tables/specs/crosskd_table4.yaml').read_text() + 'version: 2\n')
    for _ in range(2):  # nothing was cached for it
        with pytest.raises(Exception, match="field 'version' given twice"):
            load_spec(path)


def test_a_spec_that_is_not_utf8_is_one_error(tmp_path):
    path = tmp_path / 'crosskd_table4.yaml'
    path.write_bytes(b'version: 1\ntitle: \xff\xfe\n')
    with pytest.raises(Exception, match='not UTF-8 text'):
        load_spec(path)


@pytest.mark.parametrize('unbuffered', ['1', ''])
def test_a_reader_that_goes_away_is_no_traceback(unbuffered):
    """`python -m repro.run --list | head -1`: the pipe's reader is gone when the list is written."""
    env = {**os.environ, 'PYTHONUNBUFFERED': unbuffered}
    proc = subprocess.Popen([PYTHON, '-m', 'repro.run', '--list'], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # no reader: the first write fails with EPIPE
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1 and err == '', err
