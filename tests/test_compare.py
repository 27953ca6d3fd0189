"""`python -m repro.compare` on a COCO-format dataset of one's own: the dataset checks (every problem one line),
the method configs it picks, and the whole comparison on the synthetic data exported as a plain COCO folder."""
import csv
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import PYTHON, REPO
from repro.data.export_synthetic import export
from repro.data.validate_coco import DatasetProblems, Split, validate
from repro.errors import ReproError

# a run of a few iterations: 8 train images in batches of 4, one epoch, on a ResNet-18 (the teacher too)
SMALL = ['model.backbone.depth=18', 'train_dataloader.batch_size=4', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False', 'param_scheduler.0.end=2', 'train_cfg.max_epochs=1',
         'default_hooks.logger.interval=1', 'model.test_cfg.score_thr=0.0']  # some boxes after so few steps


@pytest.fixture(scope='module')
def coco_folder(tmp_path_factory) -> Path:
    """The synthetic data as a new user would hand it over: a plain COCO folder."""
    return export(tmp_path_factory.mktemp('export') / 'shapes', num_train=8, num_val=8)


def dataset_args(root: Path) -> list[str]:
    return ['--train', str(root / 'annotations/instances_train.json'), '--train-images', str(root / 'train'),
            '--val', str(root / 'annotations/instances_val.json'), '--val-images', str(root / 'val')]


def splits(root: Path) -> tuple[Split, Split]:
    return (Split('train', root / 'annotations/instances_train.json', root / 'train'),
            Split('val', root / 'annotations/instances_val.json', root / 'val'))


def broken_copy(coco_folder: Path, tmp_path: Path, change) -> Path:
    """A copy of the exported folder whose train annotations `change(data)` edits in place."""
    root = tmp_path / 'data'
    shutil.copytree(coco_folder, root)
    path = root / 'annotations/instances_train.json'
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return root


def test_exported_folder_is_valid_coco(coco_folder):
    summary = validate(*splits(coco_folder))
    assert summary.classes == ('disk', 'square', 'triangle', 'cross', 'ring', 'star')
    assert summary.images == {'train': 8, 'val': 8} and summary.annotations['train'] > 0
    assert sorted(p.name for p in coco_folder.iterdir()) == ['annotations', 'train', 'val']
    with pytest.raises(ReproError, match='not an empty folder'):
        export(coco_folder)


def _drop_categories(d):
    d['categories'] = []


def _duplicate_category(d):
    d['categories'].append({'id': 1, 'name': 'blob'})


def _missing_image(d):
    d['images'][0]['file_name'] = 'nowhere.png'


def _box_outside(d):
    d['annotations'][0]['bbox'] = [180.0, 180.0, 50.0, 50.0]


def _zero_width(d):
    d['annotations'][0]['bbox'][2] = 0


def _unknown_category(d):
    d['annotations'][0]['category_id'] = 99


def _unknown_image(d):
    d['annotations'][0]['image_id'] = 12345


def _no_annotations(d):
    d['annotations'] = []


@pytest.mark.parametrize('change, message', [
    (_drop_categories, 'train annotations instances_train.json: no categories'),
    (_duplicate_category, "category id 1 given twice"),
    (_missing_image, 'image files listed in instances_train.json are missing: nowhere.png'),
    (_box_outside, 'train annotations instances_train.json: 1 boxes outside their image: id'),
    (_zero_width, '1 boxes with zero or negative width or height'),
    (_unknown_category, '1 annotations of an unknown category id: id 1 (category 99)'),
    (_unknown_image, '1 annotations of an image id the file does not list'),
    (_no_annotations, 'none of its 8 images has an annotation'),
])
def test_each_dataset_problem_is_one_line(coco_folder, tmp_path, change, message):
    with pytest.raises(DatasetProblems) as err:
        validate(*splits(broken_copy(coco_folder, tmp_path, change)))
    problems = err.value.problems
    assert any(message in p for p in problems), problems
    assert all('\n' not in p for p in problems)
    if change in (_drop_categories, _duplicate_category):  # not every annotation's category again
        assert len(problems) == 1, problems


def test_problems_are_collected_in_one_pass(coco_folder, tmp_path):
    def several(d):
        _missing_image(d)
        _zero_width(d)
        d['images'][1]['file_name'] = 'gone.png'
    root = broken_copy(coco_folder, tmp_path, several)
    (root / 'annotations/instances_val.json').write_text('{"images": [')
    with pytest.raises(DatasetProblems) as err:
        validate(*splits(root))
    problems = err.value.problems
    assert len(problems) == 3, problems
    assert any('2 image files listed in instances_train.json are missing: nowhere.png, gone.png' in p
               for p in problems)
    assert any(p.startswith(f"val annotations {root / 'annotations/instances_val.json'}: not valid JSON")
               for p in problems)


def test_empty_images_are_a_note(coco_folder, tmp_path):
    def empty_first(d):
        d['annotations'] = [a for a in d['annotations'] if a['image_id'] != d['images'][0]['id']]
    summary = validate(*splits(broken_copy(coco_folder, tmp_path, empty_first)))
    assert summary.empty['train'] == 1
    assert summary.notes == ["train: 1 of 8 images have no annotations (mmdet's filter_empty_gt leaves them out of "
                             'training)']


def test_cli_prints_every_problem_as_one_error_line(coco_folder, tmp_path):
    root = broken_copy(coco_folder, tmp_path, lambda d: (_missing_image(d), _unknown_category(d)))
    proc = subprocess.run([PYTHON, '-m', 'repro.compare', *dataset_args(root), '--student',
                           'configs/detectors/gfl_r50.py', '--methods', 'crosskd'], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith('error: ') for line in lines), proc.stderr


def test_method_configs_follow_the_student_family():
    from repro.tables.compare import family_of, method_config, student_overrides
    assert family_of('configs/detectors/gfl_r18.py') == 'gfl'
    assert method_config('ld', 'gfl') == 'configs/methods/ld_gfl.py'
    with pytest.raises(ReproError, match=r'no config for ld on atss: configs/methods/ld_atss.py does not exist; '
                                         r'ld has configs for gfl; methods with a atss config: .*crosskd'):
        method_config('ld', 'atss')
    with pytest.raises(ReproError, match="there is no method 'nokd'"):
        method_config('nokd', 'gfl')
    assert student_overrides('configs/methods/crosskd_gfl.py', 'configs/detectors/gfl_r50.py') == []
    assert student_overrides('configs/methods/crosskd_gfl.py', 'configs/detectors/gfl_r18.py') == [
        'model.backbone.depth=18']
    with pytest.raises(ReproError, match='not only in its backbone depth'):
        student_overrides('configs/methods/crosskd_retinanet.py', 'configs/detectors/retinanet_r50.py')


def test_a_comparison_is_found_by_name_in_the_store(coco_folder, tmp_path, monkeypatch):
    """The spec repro.compare writes reads back as the same table (compare:NAME, on its dataset's folder); a name
    with no comparison, or two on different data, is one line; so is another --data-root."""
    from types import SimpleNamespace

    from repro.data.own_dataset import write_description
    from repro.tables.compare import build_spec, data_root, dataset_folder, find_table, write_spec
    from repro.tables.spec import load_spec
    monkeypatch.setenv('REPRO_WORK_DIRS', str(tmp_path))
    with pytest.raises(ReproError, match=r'^compare:shapes: no comparison of that name in .*there is none yet\)$'):
        find_table('compare:shapes')
    args = SimpleNamespace(overrides=['train_cfg.max_epochs=1'], teacher=None, teacher_config=None,
                           teacher_override=[])
    folder = write_description(dataset_folder('shapes', 'f1'), *splits(coco_folder),
                               validate(*splits(coco_folder)).classes)
    spec = build_spec('shapes', 'configs/detectors/gfl_r50.py', ['crosskd', 'pgd'], args, folder)
    write_spec(spec)
    found, note = find_table('compare:shapes')
    assert note is None and found.path == spec.path
    assert (found.id, found.dataset, found.rows, found.claims) == (spec.id, spec.dataset, spec.rows, spec.claims)
    assert data_root(found, None) == str(folder) == data_root(found, str(folder))
    with pytest.raises(ReproError, match='--data-root /elsewhere names another folder: leave it out$'):
        data_root(found, '/elsewhere')
    with pytest.raises(ReproError, match=r'^compare:nope: .*known: shapes\)$'):
        find_table('compare:nope')
    other = write_description(dataset_folder('shapes', 'f2'), *splits(coco_folder),
                              validate(*splits(coco_folder)).classes)
    write_spec(build_spec('shapes', 'configs/detectors/gfl_r50.py', ['crosskd'], args, other))
    with pytest.raises(ReproError, match='2 comparisons of that name .*pass one of these files instead$'):
        find_table('compare:shapes')
    (folder / 'repro_dataset.json').unlink()
    with pytest.raises(ReproError, match='repro_dataset.json is missing'):
        data_root(load_spec(spec.path), None)


def test_run_keys_follow_the_data_not_its_paths(coco_folder, tmp_path):
    from repro.data.own_dataset import write_description
    from repro.plan.compile import compile_config
    moved = tmp_path / 'moved'
    shutil.copytree(coco_folder, moved)
    keys = []
    for root in (coco_folder, moved):
        folder = write_description(tmp_path / root.name, *splits(root), validate(*splits(root)).classes)
        compiled = compile_config(REPO / 'configs/detectors/gfl_r50.py', 'tiny', data_root=str(folder))
        assert compiled.cfg.val_evaluator.ann_file == str(root / 'annotations/instances_val.json')
        assert compiled.cfg.model.bbox_head.num_classes == 6
        keys.append(compiled.run_key)
    assert keys[0] == keys[1]


@pytest.mark.slow(minutes=4)
def test_compare_on_the_exported_synthetic_folder(coco_folder):
    """What a new user does: export a COCO folder, compare CrossKD and PGD on it; the report has every row and a
    verdict for each method's claim; the same command again trains nothing; repro.report renders it again by name;
    given the teacher's weights, the comparison distils from that file."""
    teacher = [arg for o in SMALL for arg in ('--teacher-override', o)]
    command = [PYTHON, '-m', 'repro.compare', *dataset_args(coco_folder), '--student', 'configs/detectors/gfl_r50.py',
               '--methods', 'crosskd,pgd', '--profile', 'tiny', '--seeds', '1', '--wandb', 'disabled', *teacher,
               *SMALL]
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = Path(_report_dir()) / 'tiny' / 'compare_shapes.csv'
    rows = {r['row']: r for r in csv.DictReader(report.open())}
    assert set(rows) == {'teacher', 'student', 'crosskd', 'pgd'}
    assert all(r['n'] == '1' and r['AP_mean'] != '' for r in rows.values()), rows
    md = report.with_suffix('.md').read_text()
    for claim in ('CrossKD beats the student baseline', 'PGD beats the student baseline'):
        line = next(line for line in md.splitlines() if claim in line)
        assert 'inconclusive' in line  # one seed and no measured noise on this data
    records = {p: p.stat().st_mtime_ns for p in (Path(os.environ['REPRO_WORK_DIRS']) / 'tiny').glob('*/result.json')}
    again = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert records == {p: p.stat().st_mtime_ns for p in records}  # nothing trained again: the runs were done
    assert 'Epoch(train)' not in again.stdout + again.stderr

    # the report again from the store alone, by the comparison's name: the same rows
    out = Path(_report_dir()) / 'again'
    report_cmd = [PYTHON, '-m', 'repro.report', 'compare:shapes', '--profile', 'tiny', '--no-figures', '--wandb',
                  'disabled', '--out', str(out)]
    rendered = subprocess.run(report_cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rendered.returncode == 0, rendered.stderr[-3000:]
    assert (out / 'compare_shapes.csv').read_text() == report.read_text()

    # the teacher's weights given (those of the teacher trained above): no teacher row; each method distils from
    # that file, which is evaluated once, giving the AP the teacher's own run recorded
    store = Path(os.environ['REPRO_WORK_DIRS']) / 'tiny'
    records = {p.parent: json.loads(p.read_text()) for p in store.glob('*/result.json')}
    (teacher_dir,) = [d for d, r in records.items() if 'compare:shapes/teacher' in r['rows']]
    teacher_ap = records[teacher_dir]['metrics']['AP']
    given = [PYTHON, '-m', 'repro.compare', *dataset_args(coco_folder), '--student', 'configs/detectors/gfl_r50.py',
             '--methods', 'crosskd', '--profile', 'tiny', '--seeds', '1', '--wandb', 'disabled', '--name', 'given',
             '--teacher', str(teacher_dir / 'weights.pth'), '--trust-teacher', *teacher, *SMALL]
    proc = subprocess.run(given, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = {r['row']: r for r in csv.DictReader((Path(_report_dir()) / 'tiny' / 'compare_given.csv').open())}
    assert set(rows) == {'student', 'crosskd'}
    (distilled,) = [json.loads(p.read_text()) for p in store.glob('*/result.json')
                    if 'compare:given/crosskd' in json.loads(p.read_text())['rows']]
    assert f"teacher.checkpoint={teacher_dir / 'weights.pth'}" in distilled['overrides']
    assert distilled['teacher_ap'] == teacher_ap


def _report_dir() -> str:
    return os.environ['REPRO_REPORTS']
