"""The overhead benchmark (benchmarks/overhead.py): a CPU smoke of its tiny setting, and its arithmetic. Nothing
here asserts a time: CI machines are too noisy for that (benchmarks/RESULTS.md holds the measured numbers)."""
import json
import math
import os
import shutil
import subprocess
import sys
from collections import Counter

import pytest

from conftest import PYTHON, REPO

sys.path.insert(0, str(REPO))  # benchmarks/ is a top-level package of the repo, not installed

from benchmarks.summary import TARGETS, summarise  # noqa: E402
from benchmarks.variants import PAIRS, Variant, dtypes_for, model_config  # noqa: E402


def run_bench(*args, timeout=600):
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}
    return subprocess.run([PYTHON, '-m', 'benchmarks.overhead', *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def positive_finite(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_tiny_smoke_writes_a_complete_json(tmp_path):
    out = tmp_path / 'bench.json'
    proc = run_bench('--setting', 'tiny', '--methods', 'crosskd,pgd', '--warmup', '2', '--steps', '3',
                     '--json', str(out))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'c/(a+b)' in proc.stdout and 'crosskd' in proc.stdout
    result = json.loads(out.read_text())
    assert (result['setting'], result['device'], result['steps'], result['warmup']) == ('tiny', 'cpu', 3, 2)
    assert result['targets'] == TARGETS and result['memory_method']
    kinds = Counter((v['kind'], v['method']) for v in result['variants'])
    assert kinds == Counter({('student', None): 1, ('teacher', None): 1, ('distilled', 'crosskd'): 1,
                             ('distilled', 'pgd'): 1, ('guide', 'pgd'): 1})
    for v in result['variants']:
        assert len(v['times_ms']) == 3 and all(positive_finite(t) for t in v['times_ms'])
        assert v['min_ms'] <= v['median_ms'] <= max(v['times_ms'])
        assert isinstance(v['syncs'], int) and v['syncs'] >= 0 and sum(v['sync_sites'].values()) == v['syncs']
        if v['kind'] in ('student', 'teacher', 'distilled'):
            assert positive_finite(v['resident_mb']) and v['step_peak_mb'] >= 0
            assert v['peak_mb'] == pytest.approx(v['resident_mb'] + v['step_peak_mb'])
    # the distiller holds the student and the teacher: more resident memory than either alone
    resident = {v['kind']: v['resident_mb'] for v in result['variants'] if v['kind'] in ('student', 'teacher')}
    assert all(v['resident_mb'] > max(resident.values()) for v in result['variants'] if v['kind'] == 'distilled')
    assert [m['method'] for m in result['methods']] == ['crosskd', 'pgd']
    for m in result['methods']:
        for key in ('student_ms', 'teacher_ms', 'distilled_ms', 'overhead_ratio', 'student_peak_mb',
                    'teacher_peak_mb', 'distilled_peak_mb', 'memory_ratio'):
            assert positive_finite(m[key]), (m['method'], key, m[key])
        assert m['overhead_ratio'] == pytest.approx(m['distilled_ms'] / (m['student_ms'] + m['teacher_ms']))
        assert set(m['meets']) == {'overhead_ratio', 'memory_ratio'}
        low, mid, high = m['overhead_ratio_rounds']
        assert 0 < low <= mid <= high and all(map(math.isfinite, (low, mid, high)))
    (guide,) = result['guides']
    assert guide['method'] == 'pgd' and guide['guides'] == ['prediction_guided', 'prediction_guided']
    assert 0 < guide['share'] < 1 and positive_finite(guide['guide_ms']) and 'guide_share' in guide['meets']
    assert result['bf16'] == []  # fp32 only


def test_real_setting_refuses_without_a_gpu():
    import torch
    if torch.cuda.is_available():
        pytest.skip('a GPU is visible')
    proc = run_bench('--setting', 'real', timeout=120)
    assert proc.returncode == 2 and 'Traceback' not in proc.stderr
    assert 'no CUDA GPU is visible' in proc.stderr and '--device cpu' in proc.stderr


@pytest.mark.parametrize('args, message', [(['--methods', 'crosskd,nope'], '--methods has nope'),
                                           (['--dtype', 'fp16'], '--dtype has fp16'),
                                           (['--batch', 'two'], '--batch is'),
                                           (['--steps', '0'], 'at least 1')])
def test_bad_arguments_are_user_errors(args, message):
    from benchmarks.overhead import parse_args
    from repro.errors import ReproError
    with pytest.raises(ReproError, match=message):
        parse_args(args)


def test_bf16_is_skipped_on_cuda_only_where_mmcv_focal_loss_would_run(capsys):
    """mmcv 2.1.0's CUDA sigmoid_focal_loss has no bf16 kernel (it crashed ATSS's bf16 step on an H200); GFL's QFL is
    PyTorch and keeps bf16, and on the CPU mmdet's FocalLoss is PyTorch too."""
    cfgs = {pair: (model_config(s, 'real')[0], model_config(t, 'real')[0]) for pair, (s, t) in PAIRS.items()}
    both = ['fp32', 'bf16']
    assert dtypes_for('atss', *cfgs['atss'], both, 'cuda') == ['fp32']
    assert 'atss pair' in capsys.readouterr().err
    assert dtypes_for('gfl', *cfgs['gfl'], both, 'cuda') == both
    assert dtypes_for('atss', *cfgs['atss'], both, 'cpu') == both
    assert dtypes_for('atss', *cfgs['atss'], ['fp32'], 'cuda') == ['fp32']


def fake(kind, times, pair='gfl', method=None, dtype='fp32', resident=100, peak=50, guides=()):
    v = Variant(name=f'{kind} {method}', kind=kind, pair=pair, dtype=dtype, batch=2, run=lambda: None,
                method=method, guides=guides)
    v.times_ms, v.step_peaks, v.resident = list(times), [peak] * len(times), resident
    return v


def test_summary_ratios_are_medians_against_the_targets():
    variants = [fake('student', [10, 11, 30]), fake('teacher', [5, 4, 6]),            # medians 11 and 5
                fake('distilled', [16, 17, 99], method='crosskd', resident=200, peak=130),
                fake('distilled', [20, 20, 20], method='pgd'),
                fake('guide', [0.5, 0.7, 0.6], method='pgd', guides=('prediction_guided',)),
                fake('student', [5, 5, 5], dtype='bf16'), fake('teacher', [2, 2, 2], dtype='bf16'),
                fake('distilled', [8, 8, 8], method='crosskd', dtype='bf16')]
    s = summarise(variants)
    crosskd, pgd, crosskd_bf16 = s['methods']
    assert crosskd['overhead_ratio'] == pytest.approx(17 / 16) and crosskd['meets']['overhead_ratio'] is False
    assert crosskd['overhead_ratio_rounds'][1] == pytest.approx(17 / 15)  # rounds: 16/15, 17/15, 99/36
    assert pgd['overhead_ratio'] == pytest.approx(20 / 16) and not pgd['meets']['overhead_ratio']
    mb = 2 ** 20  # peaks are resident + step peak: (200 + 130) / ((100 + 50) + (100 + 50)) = 1.1
    assert crosskd['memory_ratio'] == pytest.approx(1.1) and crosskd['distilled_peak_mb'] == pytest.approx(330 / mb)
    assert crosskd_bf16['overhead_ratio'] == pytest.approx(8 / 7)
    (guide,) = s['guides']
    assert guide['share'] == pytest.approx(0.6 / 20) and guide['meets'] == {'guide_share': True}
    speedups = {b['what']: b['speedup'] for b in s['bf16']}
    assert speedups == pytest.approx({'student gfl': 11 / 5, 'crosskd': 17 / 8})


def test_latency_smoke_writes_its_json(tmp_path):
    """benchmarks/latency.py on one table: cold, warm and floor measured; nothing asserted about their values."""
    out = tmp_path / 'latency.json'
    proc = subprocess.run([PYTHON, '-m', 'benchmarks.latency', '--tables', 'crosskd:table4', '--rounds', '1',
                           '--json', str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert (result['commands'], result['tables'], result['rounds']) == (2, 1, 1) and result['target_s'] == 3.0
    assert all(positive_finite(result[k]) for k in ('cold_s', 'warm_s', 'floor_s', 'warm_over_floor'))
    assert 'warm (median of 1)' in proc.stdout
    bad = subprocess.run([PYTHON, '-m', 'benchmarks.latency', '--tables', 'table99'], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and 'no such table: table99' in bad.stderr


def test_coco_eval_smoke_times_both_backends(tmp_path):
    pytest.importorskip('faster_coco_eval')
    out = tmp_path / 'coco_eval.json'
    proc = subprocess.run([PYTHON, '-m', 'benchmarks.coco_eval', '--images', '30', '--json', str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result['images'] == 30 and result['predictions'] == 3000 and result['max_stat_difference'] < 1e-4
    assert positive_finite(result['pycocotools_s']) and positive_finite(result['faster_coco_eval_s'])


def test_loss_magnitudes_split_kd_from_detection_per_epoch(tmp_path):
    """benchmarks/loss_magnitudes.py on a hand-written training log: epoch means of the summed KD and detection
    losses, the run's AP from its record."""
    from benchmarks.loss_magnitudes import magnitudes
    from repro.runs.store import RESULT_FILE
    log = tmp_path / '20260101_000000' / 'vis_data' / 'scalars.json'
    log.parent.mkdir(parents=True)
    lines = [dict(epoch=1, iter=1, loss=3.0, loss_cls=1.0, loss_bbox=0.5, loss_kd_cls=1.0, loss_kd_reg=0.5),
             dict(epoch=1, iter=2, loss=2.0, loss_cls=1.0, loss_bbox=0.0, loss_kd_cls=0.5, loss_kd_reg=0.5),
             dict(epoch=2, iter=3, loss=1.0, loss_cls=0.5, loss_dfl=0.25, loss_ld=0.25)]
    log.write_text('\n'.join(json.dumps({**line, 'data_time': 0.1, 'time': 1.0}) for line in lines) + '\n')
    (tmp_path / RESULT_FILE).write_text(json.dumps({'status': 'done', 'metrics': {'AP': 12.5}}))
    row = magnitudes(tmp_path)
    # epoch 1: KD (1.5 + 1.0) / 2 = 1.25, detection (1.5 + 1.0) / 2 = 1.25; epoch 2: KD 0.25 (mmdet's LD), det 0.75
    assert row['AP'] == 12.5
    assert row['epochs'] == [dict(epoch=1, kd=1.25, det=1.25), dict(epoch=2, kd=0.25, det=0.75)]


@pytest.mark.parametrize('folder', ['.', 'val100', 'clipped'])
def test_the_measured_seed_noise_is_what_its_committed_records_give(folder):
    """benchmarks/seed_noise/tiny.json (the sigma claim verdicts use), the measurement before the profile's val
    split grew (val100/) and the one over the rows the tables run, PGD's clipped (clipped/), recomputed from the run
    records beside each."""
    import statistics
    from repro.report.tables.seed_noise import NOISE_DIR, measured_noise, same_runs
    data = json.loads((NOISE_DIR / folder / 'tiny.json').read_text())
    records = {r['run_key']: r for r in (json.loads(p.read_text())
                                         for p in (NOISE_DIR / folder / 'runs').glob('*.json'))}
    variances = []
    for row in data['rows'].values():
        runs = [records[key] for key in row['run_keys']]
        assert all(r['status'] == 'done' for r in runs)
        assert [r['seed'] for r in runs] == row['seeds'] == sorted(set(row['seeds']))
        assert [r['metrics']['AP'] for r in runs] == row['values']
        assert statistics.stdev(row['values']) == pytest.approx(row['std'], abs=1e-3)
        variances.append((len(runs) - 1, statistics.variance(row['values'])))
    pooled = math.sqrt(sum(n * v for n, v in variances) / sum(n for n, _ in variances))
    assert pooled == pytest.approx(data['sigma'], abs=1e-3) and len(data['rows']) >= 3
    assert set(records) == {key for row in data['rows'].values() for key in row['run_keys']}
    if folder != 'val100':  # runs of today's profile: each is the run its row's config and overrides give today
        assert same_runs('tiny', data['rows'])
    if folder == '.':
        assert measured_noise('tiny', 'AP').sigma == data['sigma'] and measured_noise('tiny', 'AP50') is None


def test_the_seed_noise_holds_while_its_runs_keep_their_keys(tmp_path):
    """A measurement made under another profile file still holds where today's code and profile give every run it
    measured its recorded key (a schedule change of another detector family); one run trained differently today
    makes it stale, and the report says so."""
    from repro.plan.compile import compile_config
    from repro.profiles import REPO_ROOT
    from repro.report.tables.seed_noise import measured_noise
    config = 'configs/detectors/gfl_r50.py'
    keys = [compile_config(REPO_ROOT / config, 'tiny', seed=s).run_key for s in (0, 1)]

    def noise(run_keys):
        (tmp_path / 'tiny.json').write_text(json.dumps(dict(
            metric='AP', sigma=0.9, commits=['abcdef0'], profile_sha='not-this-profile',
            rows={config: dict(seeds=[0, 1], values=[16.2, 17.0], run_keys=run_keys)})))
        return measured_noise('tiny', 'AP', tmp_path)
    assert noise(keys).current
    stale = noise([keys[0], 'another-run'])
    assert not stale.current and 'would train differently: measure it again' in stale.sentence()
    assert not noise(None).current  # no keys recorded: only the profile file's hash can say


def test_seed_noise_keeps_exactly_the_records_it_measured(tmp_path, monkeypatch, capsys):
    """`benchmarks/seed_noise.py --write` reads the finished runs whose key today's code gives (an earlier key's run
    of the same config is not one of them), writes the pooled figure, and leaves in runs/ exactly the records used:
    a record kept earlier for the same key stays as it was (its commit is the measurement's), an earlier
    measurement's record goes, and a kept record with another result for the same key on the same CPU model is
    refused (from another CPU model, or one a record does not name, the kept record stays the measurement's)."""
    import benchmarks.seed_noise as seed_noise
    from repro.plan.compile import compile_config
    from repro.profiles import REPO_ROOT
    config = 'configs/detectors/gfl_r50.py'
    noise_dir = tmp_path / 'noise'
    (noise_dir / 'runs').mkdir(parents=True)
    keys = []
    for seed, ap in ((0, 16.0), (1, 17.0), (2, 15.0)):
        keys.append(compile_config(REPO_ROOT / config, 'tiny', seed=seed).run_key)
        for run_key, value in ((keys[-1], ap), ('0ldkey' + str(seed), 99.0)):
            folder = tmp_path / 'store' / 'tiny' / f'gfl_r50-{run_key}'
            folder.mkdir(parents=True)
            (folder / 'result.json').write_text(json.dumps(dict(
                status='done', seed=seed, run_key=run_key, config=config, overrides=[], metrics={'AP': value},
                git_commit='new')))
    first = dict(status='done', seed=0, run_key=keys[0], config=config, overrides=[], metrics={'AP': 16.0},
                 git_commit='first')
    (noise_dir / 'runs' / f'gfl_r50-{keys[0]}.json').write_text(json.dumps(first))
    (noise_dir / 'runs' / 'pgd_atss-earlier.json').write_text('{}')
    monkeypatch.setattr(seed_noise, 'NOISE_DIR', noise_dir)
    argv = ['--store', str(tmp_path / 'store'), '--configs', config, '--write']
    seed_noise.main(argv)
    data = json.loads((noise_dir / 'tiny.json').read_text())
    assert data['rows'][config]['values'] == [16.0, 17.0, 15.0] and data['sigma'] == 1.0 and data['dof'] == 2
    assert data['rows'][config]['run_keys'] == keys and data['commits'] == ['first', 'new']
    kept = sorted(p.name for p in (noise_dir / 'runs').glob('*.json'))
    assert kept == sorted(f'gfl_r50-{key}.json' for key in keys)
    assert json.loads((noise_dir / 'runs' / f'gfl_r50-{keys[0]}.json').read_text())['git_commit'] == 'first'
    assert 'removed pgd_atss-earlier.json' in capsys.readouterr().out
    (noise_dir / 'runs' / f'gfl_r50-{keys[0]}.json').write_text(json.dumps({**first, 'metrics': {'AP': 16.1}}))
    seed_noise.main(argv)  # no CPU named: the kept record stays the measurement's, and a line says so
    assert json.loads((noise_dir / 'tiny.json').read_text())['rows'][config]['values'][0] == 16.1
    assert 'the measurement keeps' in capsys.readouterr().out
    store_record = tmp_path / 'store' / 'tiny' / f'gfl_r50-{keys[0]}' / 'result.json'
    xeon = {'hardware': {'cpu': 'Intel(R) Xeon(R) Processor'}}
    store_record.write_text(json.dumps({**json.loads(store_record.read_text()), **xeon}))
    (noise_dir / 'runs' / f'gfl_r50-{keys[0]}.json').write_text(json.dumps(
        {**first, 'metrics': {'AP': 16.1}, 'hardware': {'cpu': 'AMD EPYC 7B13'}}))
    seed_noise.main(argv)  # another CPU model: one key gives one result on one machine, not across machines
    assert json.loads((noise_dir / 'tiny.json').read_text())['rows'][config]['values'][0] == 16.1
    (noise_dir / 'runs' / f'gfl_r50-{keys[0]}.json').write_text(json.dumps(
        {**first, 'metrics': {'AP': 16.1}, **xeon}))
    with pytest.raises(SystemExit, match='on the same CPU .*the same run key must give the same result'):
        seed_noise.main(argv)
    shutil.rmtree(store_record.parent)  # a run another machine's store holds: its kept record still counts
    seed_noise.main(argv)
    assert json.loads((noise_dir / 'tiny.json').read_text())['rows'][config]['values'] == [16.1, 17.0, 15.0]


def test_seed_noise_measures_a_table_row_as_the_table_runs_it(tmp_path, monkeypatch):
    """A row named TABLE/ROW is measured on the runs of that row's config with the row's overrides (PGD Table 1's
    ATSS student clips its gradients): the same config's run without them is another run and is not used. The
    measurement records the config and overrides, so that it stays current while the row's runs keep their keys.
    --out writes a measurement of its own elsewhere. A name that is neither a config nor a table's row is refused
    in one line."""
    import benchmarks.seed_noise as seed_noise
    from repro.plan.compile import compile_config
    from repro.profiles import REPO_ROOT
    from repro.report.tables.seed_noise import measured_noise
    from repro.tables.spec import resolve
    config = 'configs/detectors/atss_r50.py'
    overrides = list(resolve('pgd:table1')[0].row('atss_student').run.overrides)
    assert any('clip_grad' in o for o in overrides)
    noise_dir = tmp_path / 'noise'
    (noise_dir / 'runs').mkdir(parents=True)
    for seed, clipped_ap, bare_ap in ((0, 15.0, 30.0), (1, 16.0, 10.0)):
        for extra, ap in ((overrides, clipped_ap), ([], bare_ap)):
            run_key = compile_config(REPO_ROOT / config, 'tiny', overrides=extra, seed=seed).run_key
            folder = tmp_path / 'store' / 'tiny' / f'atss_r50-{run_key}'
            folder.mkdir(parents=True)
            (folder / 'result.json').write_text(json.dumps(dict(
                status='done', seed=seed, run_key=run_key, config=config, overrides=extra, metrics={'AP': ap},
                git_commit='c')))
    monkeypatch.setattr(seed_noise, 'NOISE_DIR', noise_dir)
    seed_noise.main(['--store', str(tmp_path / 'store'), '--rows', 'pgd:table1/atss_student', '--write'])
    row = json.loads((noise_dir / 'tiny.json').read_text())['rows']['pgd:table1/atss_student']
    assert row['values'] == [15.0, 16.0] and row['config'] == config and row['overrides'] == overrides
    data = json.loads((noise_dir / 'tiny.json').read_text())
    (noise_dir / 'tiny.json').write_text(json.dumps({**data, 'profile_sha': 'another-profile'}))
    assert measured_noise('tiny', 'AP', noise_dir).current  # the row's runs keep their keys under today's code
    # --out writes a measurement verdicts do not use; the records kept by theirs count where the store has none
    shutil.rmtree(tmp_path / 'store')
    before = sorted(p.name for p in noise_dir.rglob('*'))
    other = tmp_path / 'other'
    seed_noise.main(['--store', str(tmp_path / 'store'), '--rows', 'pgd:table1/atss_student', '--write',
                     '--out', str(other)])
    assert json.loads((other / 'tiny.json').read_text())['rows']['pgd:table1/atss_student']['values'] == [15.0, 16.0]
    assert len(list((other / 'runs').glob('*.json'))) == 2 and sorted(p.name for p in noise_dir.rglob('*')) == before
    for bad, says in (('pgd:table1/nope', "pgd:table1 has no row 'nope'"), ('atss', 'name a config'),
                      ('configs/nope.py', 'no such config'),
                      ('pgd:table99/x', 'pgd:table99')):
        with pytest.raises(SystemExit, match=says) as err:
            seed_noise.main(['--store', str(tmp_path / 'store'), '--rows', bad])
        assert '\n' not in str(err.value)
