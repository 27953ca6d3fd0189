"""A comparison of KD methods on a dataset of one's own (python -m repro.compare) as a table spec: a teacher row
(unless its weights are given), the student baseline and one row per method, each method's config being
configs/methods/<method>_<family>.py for the student's detector family, with the claim "METHOD beats the student".
The spec is also written as YAML beside the dataset's description, in the results store's datasets/ folder, where
`python -m repro.report compare:NAME` finds it."""
from __future__ import annotations

import glob
import re
from pathlib import Path

from repro.errors import ReproError
from repro.profiles import CONFIG_DIR, REPO_ROOT

METHODS_DIR = CONFIG_DIR / 'methods'


METRICS = ('AP', 'AP50', 'AP75', 'APs', 'APm', 'APl')


LABELS = {'crosskd': 'CrossKD', 'pgd': 'PGD', 'ld': 'LD', 'pkd': 'PKD', 'fgd': 'FGD', 'defeat': 'DeFeat',
          'fkd': 'FKD', 'frs': 'FRS', 'fgfi': 'FGFI', 'gid': 'GID', 'skd': 'SKD', 'pm': 'PM', 'fitnets': 'FitNets'}


# top-level config keys that may differ between a method's own student and --student without changing the model
_NOT_THE_MODEL = ('zoo_checkpoint',)


def config_path(value: str, flag: str) -> str:
    """A config path as the table's rows name it: relative to the repo when it is inside it."""
    path = Path(value)
    if not path.is_file():
        path = REPO_ROOT / value
    if not path.is_file() or path.suffix != '.py':
        examples = ', '.join(sorted(str(p.relative_to(REPO_ROOT)) for p in (CONFIG_DIR / 'detectors').glob('*.py'))[:4])
        raise ReproError(f'{flag} {value}: no such config file; pass one like {examples}')
    path = path.resolve()
    try:
        return str(path.relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


DATASETS_DIR = 'datasets'  # under the store's root: one folder per compared dataset, <name>-<fingerprint>


def dataset_folder(name: str, fingerprint: str) -> Path:
    """Where a compared dataset's description and its comparison's spec live."""
    from repro.runs.store import work_dirs_root
    return work_dirs_root() / DATASETS_DIR / f'{name}-{fingerprint}'


def find_spec(name: str) -> Path:
    """The spec file of the comparison called `name` (compare:NAME), or a one-line error naming what exists."""
    from repro.runs.store import work_dirs_root
    root = work_dirs_root() / DATASETS_DIR
    found = sorted(root.glob(f'{glob.escape(name)}-*/compare_{glob.escape(name)}.yaml'))
    if len(found) == 1:
        return found[0]
    if found:
        raise ReproError(f"compare:{name}: {len(found)} comparisons of that name in {root}, on different data "
                         f"({', '.join(str(p) for p in found)}); pass one of these files instead")
    known = sorted(p.stem.removeprefix('compare_') for p in root.glob('*/compare_*.yaml'))
    raise ReproError(f"compare:{name}: no comparison of that name in {root} (python -m repro.compare writes one; "
                     f"{'known: ' + ', '.join(known) if known else 'there is none yet'})")


def find_table(query: str, specs=None):
    """resolve() over the built-in specs and spec files, and compare:NAME, a comparison repro.compare ran."""
    from repro.tables.spec import COMPARE, load_spec, resolve
    paper, sep, name = query.strip().lower().partition(':')
    if sep and paper == COMPARE:
        return load_spec(find_spec(name)), None
    return resolve(query, specs)


def data_root(spec, given: str | None) -> str:
    """The data root of a comparison's table: the folder its spec lies in, beside the dataset's description; a
    one-line error where --data-root names another, or the description is gone (its runs' keys depend on it)."""
    from repro.data.own_dataset import DESCRIPTION
    folder = spec.path.parent
    if given and Path(given).resolve() != folder.resolve():
        raise ReproError(f'{spec.id} runs on the dataset described in {folder}; --data-root {given} names another '
                         'folder: leave it out')
    if not (folder / DESCRIPTION).is_file():
        raise ReproError(f'{spec.id}: {folder / DESCRIPTION} is missing, which describes the dataset its runs '
                         'trained on; run the python -m repro.compare command again to write it')
    return str(folder)


def default_name(train) -> str:
    """The dataset folder's name: the annotation file's folder, or the one above an `annotations` folder."""
    folder = train.ann_file.parent
    if folder.name == 'annotations':
        folder = folder.parent
    return re.sub(r'[^a-z0-9_]+', '_', folder.name.lower()).strip('_') or 'dataset'


def family_of(student: str) -> str:
    """The detector family of a student config: configs/detectors/gfl_r50.py -> gfl."""
    return Path(student).stem.split('_')[0]


def method_config(method: str, family: str) -> str:
    """configs/methods/<method>_<family>.py, or a one-line error naming what exists."""
    path = METHODS_DIR / f'{method}_{family}.py'
    if path.is_file():
        return str(path.relative_to(REPO_ROOT))
    known = sorted({p.stem.split('_')[0] for p in METHODS_DIR.glob('*.py')})
    here = sorted({p.stem.split('_')[0] for p in METHODS_DIR.glob(f'*_{family}.py')})
    families = sorted(p.stem.split('_', 1)[1] for p in METHODS_DIR.glob(f'{method}_*.py'))
    what = (f"{method} has configs for {', '.join(families)}" if families
            else f"there is no method '{method}' (methods: {', '.join(known)})")
    raise ReproError(f"no config for {method} on {family}: configs/methods/{method}_{family}.py does not exist; "
                     f"{what}; methods with a {family} config: {', '.join(here) or 'none'}")


def method_student(method_cfg: str) -> str | None:
    """The student config a method config builds on (the detector in its _base_)."""
    text = (REPO_ROOT / method_cfg).read_text()
    found = re.search(r"['\"]\.\./detectors/([\w.]+\.py)['\"]", text)
    return f'configs/detectors/{found.group(1)}' if found else None


def student_overrides(method_cfg: str, student: str) -> list[str]:
    """The overrides that make a method config's student the --student config: none where it builds on it; a
    backbone depth where that is all that differs (gfl_r50 -> gfl_r18); else a one-line error."""
    from repro.plan.compile import _sync_backbone, load_config
    own = method_student(method_cfg)
    if own is None:
        raise ReproError(f'{method_cfg}: cannot tell which student config it builds on (no ../detectors/ _base_)')
    if (REPO_ROOT / own).resolve() == (REPO_ROOT / student).resolve():
        return []
    theirs, ours = load_config(REPO_ROOT / own), load_config(REPO_ROOT / student)
    overrides = []
    depth = ours.model.get('backbone', {}).get('depth')
    if depth is not None and theirs.model.get('backbone', {}).get('depth') != depth:
        theirs.model.backbone.depth = depth
        overrides.append(f'model.backbone.depth={depth}')
    _sync_backbone(theirs.model)
    _sync_backbone(ours.model)
    differ = [k for k in sorted(set(theirs.keys()) | set(ours.keys()))
              if k not in _NOT_THE_MODEL and theirs.get(k) != ours.get(k)]
    if differ:
        raise ReproError(f"{Path(method_cfg).name} distils into {Path(own).name}, and --student {Path(student).name} "
                         f"differs from it in {', '.join(differ)}, not only in its backbone depth; pass --student "
                         f'{own} or a depth variant of it')
    return overrides


def build_spec(name: str, student: str, methods: list[str], args, folder: Path):
    """The comparison as a table spec (repro.tables.spec.TableSpec): teacher rows (unless --teacher), the student
    and one row per method, with a claim per method that it beats the student."""
    from repro.tables.claims import Claim
    from repro.tables.spec import Row, Run, TableSpec
    family = family_of(student)
    configs = {m: method_config(m, family) for m in methods}  # every missing config refused before any is read
    user = tuple(args.overrides)
    teacher_cfg = config_path(args.teacher_config, '--teacher-config') if args.teacher_config else None
    teacher_extra = ([f'teacher.config={teacher_cfg}'] if teacher_cfg else []) + (
        [f'teacher.overrides={list(args.teacher_override)!r}'] if args.teacher_override else [])
    if args.teacher:
        teacher_extra.append(f'teacher.checkpoint={checkpoint_arg(args.teacher)}')
    published = dict.fromkeys(METRICS)
    rows, teachers = [], []
    for method, cfg in configs.items():
        teachers.append(teacher_cfg or method_teacher(cfg))
        overrides = (*student_overrides(cfg, student), *user, *teacher_extra)
        rows.append(Row(id=method, label=LABELS.get(method, method), role='distilled', run=Run(cfg, overrides),
                        published=published))
    student_row = Row(id='student', label=f'Student ({Path(student).stem})', role='student',
                      run=Run(student, user), published=published)
    teacher_rows = []
    if not args.teacher:  # the teacher's own run is a row; the methods' plans name the same run
        distinct = list(dict.fromkeys(teachers))
        for t in distinct:
            row_id = 'teacher' if len(distinct) == 1 else f'teacher_{Path(t).stem}'
            teacher_rows.append(Row(id=row_id, label=f'Teacher ({Path(t).stem})', role='teacher',
                                    run=Run(t, tuple(args.teacher_override)), published=published))
    claims = tuple(Claim(f'{m}_beats_student', f'{LABELS.get(m, m)} beats the student baseline',
                         'repro.compare: distillation should improve the student it distils into', m, ('student',))
                   for m in methods)
    teacher_text = f'teacher weights {args.teacher}' if args.teacher else \
        f"teacher {', '.join(Path(t).stem for t in dict.fromkeys(teachers))} trained here"
    return TableSpec(id=f'compare:{name}', paper='compare', number=name, version=1,
                     title=f"KD methods on {name}: {', '.join(LABELS.get(m, m) for m in methods)} vs the "
                           f'{Path(student).stem} student',
                     description=f'{Path(student).stem} student, {teacher_text}; COCO-format dataset {name} '
                                 f'(python -m repro.compare).',
                     metrics=METRICS, rows=(*teacher_rows, student_row, *rows),
                     path=folder / f'compare_{name}.yaml', claims=claims, dataset=name)


def method_teacher(method_cfg: str) -> str:
    """The teacher config a method config names (`teacher = dict(config=...)`)."""
    from repro.plan.compile import load_config
    cfg = load_config(REPO_ROOT / method_cfg)
    teacher = (cfg.get('teacher') or {}).get('config')
    if not teacher:
        raise ReproError(f'{method_cfg}: names no teacher (teacher = dict(config=...))')
    return teacher


def checkpoint_arg(value: str) -> str:
    if '://' in value:
        return value
    path = Path(value)
    if not path.is_file():
        raise ReproError(f'--teacher {value}: no such checkpoint file')
    return str(path.resolve())


def write_spec(spec) -> None:
    """The comparison's table in the YAML schema of repro/tables/specs/, beside the dataset description: what was
    compared, and a start for a table of one's own."""
    import yaml

    from repro.runs.atomic import atomic_write_text
    data = {'version': spec.version, 'paper': spec.paper, 'number': spec.number, 'dataset': spec.dataset,
            'title': spec.title, 'description': spec.description, 'metrics': list(spec.metrics),
            'rows': [{'id': r.id, 'label': r.label, 'role': r.role,
                      'run': {'config': r.run.config, 'overrides': list(r.run.overrides)},
                      'published': dict(r.published)} for r in spec.rows],
            'claims': [{'id': c.id, 'says': c.says, 'source': c.source, 'better': c.better, 'than': list(c.than)}
                       for c in spec.claims]}
    atomic_write_text(spec.path, yaml.safe_dump(data, sort_keys=False, width=120))

