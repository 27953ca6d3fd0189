"""Small specs of fast tiny runs for the figure tests, trained for real into $REPRO_WORK_DIRS (a run another test
or worker trains is waited for through the store's lock, never trained twice)."""
from __future__ import annotations

from pathlib import Path

import yaml

from repro.plan.dag import plan
from repro.tables.spec import load_spec


def write_spec(folder: Path, number: str, rows: list[dict], paper: str = 'pgd'):
    """A spec `<paper>:table<number>` of `rows` (dicts of id, role, config, overrides, published AP, params)."""
    data = dict(version=1, paper=paper, number=number, title='A figure test table', description='Fast runs.',
                metrics=['AP', 'AP50'], rows=[
                    dict(id=r['id'], label=r.get('label', r['id']), role=r['role'],
                         run=dict(config=r['config'], overrides=list(r['overrides'])),
                         published=dict(AP=r.get('ap', 40.0), AP50=None),
                         **({'params': r['params']} if 'params' in r else {}))
                    for r in rows])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f'{paper}_table{number}.yaml'
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_spec(path)


def one_row_spec(folder: Path, role: str, config: str, overrides: list[str]):
    return write_spec(folder, '95', [dict(id=role, role=role, config=config, overrides=overrides)])


def train_all(spec, seeds: int = 1, only=None):
    """Train the spec's planned runs (those `only(run)` accepts); returns the plan."""
    from repro.runs.lifecycle import train
    runs = plan(spec, 'tiny', seeds=seeds)
    for run in runs:
        if only is None or only(run):
            train(run.config, list(run.overrides), 'tiny', seed=run.seed, work_dir=run.work_dir, rows=run.rows,
                  role=run.role, wandb='disabled', wait=True)
    return runs


LAYERS = (1, 3, 4)  # CrossKD at layers 3 and 4 trained, layer 1 left pending


def layer_table(folder: Path):
    """`crosskd:table94`: a GFL student and CrossKD at layers 1, 3 and 4 (params {layer: i}) on the report
    fixture's teacher; every run but layer 1's trained (layer 3's is the fixture's own CrossKD run). Returns
    (spec, runs)."""
    from report_store import DISTILLED, STUDENT
    rows = [dict(id='student', role='student', config='configs/detectors/gfl_r50.py', overrides=STUDENT, ap=35.8)]
    published = {1: 38.3, 3: 38.7, 4: 38.2}  # CrossKD Table 1's AP at those layers
    for layer in LAYERS:
        overrides = DISTILLED if layer == 3 else DISTILLED + [f'distill.layer={layer}']
        rows.append(dict(id=f'l{layer}', role='distilled', config='configs/methods/crosskd_gfl.py',
                         overrides=overrides, ap=published[layer], params={'layer': layer}))
    spec = write_spec(folder, '94', rows, paper='crosskd')
    runs = train_all(spec, only=lambda run: 'crosskd:table94/l1' not in run.rows)
    return spec, runs
